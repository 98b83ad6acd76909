import { createHash } from 'node:crypto';
import { z } from 'zod';
import { databaseFact, MYSQL, mysqlUserFact, sqlString, type MysqlAccount } from '../facts/mysql.js';
import { changes, noop, PlanError, type Change } from './change.js';
import { defineModule } from './module.js';
import type { Op } from './ops.js';

/** SQL for the mysql client, on its stdin: never on a command line. */
function sqlOp(statements: string[]): Op[] {
  return [{ op: 'exec', command: MYSQL, stdin: statements.join('\n') }];
}

const identifier = z.string().regex(/^[A-Za-z0-9_]+$/, 'letters, digits and _ only');
const accountHost = z.string().regex(/^[A-Za-z0-9_.%:-]+$/, 'an address, a name, or a pattern with %');

const dbArgs = z
  .strictObject({
    name: identifier,
    state: z.enum(['present', 'absent']).default('present'),
    encoding: identifier.default('utf8mb4'),
    collation: identifier.default('utf8mb4_unicode_ci'),
  })
  .describe('a MariaDB/MySQL database, through the mysql client as root over the local socket');

export const mysqlDbModule = defineModule<z.infer<typeof dbArgs>>({
  name: 'mysql_db',
  description:
    'A MariaDB database: created with an encoding and collation, or dropped. Uses the mysql client on the host (no Python).',
  args: dbArgs,
  facts: (a) => [databaseFact(a.name)],
  plan(a, facts) {
    const s = facts.get(databaseFact(a.name));
    if (!s.available) throw new PlanError(`MariaDB is not usable on this host: ${s.reason}`);
    const id = `\`${a.name}\``;
    if (a.state === 'absent') {
      return s.exists
        ? changes({
            action: 'delete',
            subject: `database ${a.name}`,
            details: ['DROP DATABASE (its data is lost)'],
            ops: sqlOp([`DROP DATABASE ${id};`]),
          })
        : noop(`database ${a.name} does not exist`);
    }
    if (!s.exists) {
      return changes({
        action: 'create',
        subject: `database ${a.name}`,
        details: [`${a.encoding}, ${a.collation}`],
        ops: sqlOp([`CREATE DATABASE ${id} CHARACTER SET ${a.encoding} COLLATE ${a.collation};`]),
      });
    }
    if (s.charset !== a.encoding || s.collation !== a.collation) {
      return changes({
        action: 'update',
        subject: `database ${a.name}`,
        details: [`${s.charset}, ${s.collation} -> ${a.encoding}, ${a.collation}`],
        ops: sqlOp([`ALTER DATABASE ${id} CHARACTER SET ${a.encoding} COLLATE ${a.collation};`]),
      });
    }
    return noop(`database ${a.name} exists (${s.charset}, ${s.collation})`);
  },
});

const userArgs = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9_.-]{1,80}$/, 'must be a MariaDB user name'),
    password: z
      .string()
      .min(1)
      .optional()
      .describe('from secrets: "{{ secrets.db_password }}"; never shown, never on a command line'),
    hosts: z
      .array(accountHost)
      .min(1)
      .default(['localhost'])
      .describe('exactly the client hosts this user may connect from; accounts for other hosts are dropped'),
    privileges: z
      .record(
        z.string().regex(/^(\*|[A-Za-z0-9_]+)\.(\*|[A-Za-z0-9_]+)$/, 'must be db.table, db.* or *.*'),
        z.string().regex(/^[A-Z ,_]+$/, 'e.g. "ALL" or "SELECT, INSERT"'),
      )
      .default({})
      .describe('exactly these grants, e.g. { "kanka.*": "ALL", "*.*": "REPLICATION SLAVE" }'),
    state: z.enum(['present', 'absent']).default('present'),
  })
  .describe('a MariaDB user: one account per allowed client host, password and exact grants');

type UserArgs = z.infer<typeof userArgs>;

/** The hash MariaDB stores for mysql_native_password: compared without ever sending the password. */
function nativePasswordHash(password: string): string {
  const once = createHash('sha1').update(password, 'utf8').digest();
  return `*${createHash('sha1').update(once).digest('hex').toUpperCase()}`;
}

function account(name: string, host: string): string {
  return `${sqlString(name)}@${sqlString(host)}`;
}

/** "GRANT SELECT, INSERT ON `kanka`.* TO ..." -> "kanka.*" => "INSERT, SELECT" (GRANT USAGE ignored). */
function parseGrants(lines: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of lines) {
    const m = /^GRANT (.+?) ON (\S+) TO /.exec(line);
    if (!m?.[1] || !m[2]) continue;
    const privs = normalisePrivileges(m[1]);
    if (privs === 'USAGE') continue;
    out.set(m[2].replace(/`/g, ''), privs);
  }
  return out;
}

/** MariaDB 10.5+ shows some privileges under their new names. */
const PRIVILEGE_ALIASES: Record<string, string> = {
  'ALL PRIVILEGES': 'ALL',
  'REPLICATION CLIENT': 'BINLOG MONITOR',
  'REPLICATION REPLICA': 'REPLICATION SLAVE',
  'REPLICA MONITOR': 'SLAVE MONITOR',
};

function normalisePrivileges(p: string): string {
  return p
    .split(',')
    .map((x) => x.trim().toUpperCase())
    .map((x) => PRIVILEGE_ALIASES[x] ?? x)
    .filter(Boolean)
    .sort()
    .join(', ');
}

function grantStatements(a: UserArgs, host: string): string[] {
  return Object.entries(a.privileges).map(([on, privs]) => {
    const [db = '*', table = '*'] = on.split('.');
    const obj = `${db === '*' ? '*' : `\`${db}\``}.${table === '*' ? '*' : `\`${table}\``}`;
    return `GRANT ${normalisePrivileges(privs)} ON ${obj} TO ${account(a.name, host)};`;
  });
}

function grantsMatch(a: UserArgs, acc: MysqlAccount): boolean {
  const have = parseGrants(acc.grants);
  const want = new Map(Object.entries(a.privileges).map(([on, p]) => [on, normalisePrivileges(p)]));
  return have.size === want.size && [...want].every(([on, p]) => have.get(on) === p);
}

export const mysqlUserModule = defineModule<UserArgs>({
  name: 'mysql_user',
  description:
    'A MariaDB user limited to given client hosts, with a password (from secrets) and exact grants; SQL goes through stdin, never a command line.',
  args: userArgs,
  facts: (a) => [mysqlUserFact(a.name)],
  plan(a, facts) {
    const s = facts.get(mysqlUserFact(a.name));
    if (!s.available) throw new PlanError(`MariaDB is not usable on this host: ${s.reason}`);
    const list: Change[] = [];
    const wanted = a.state === 'present' ? new Set(a.hosts) : new Set<string>();
    for (const acc of s.accounts) {
      if (!wanted.has(acc.host))
        list.push({
          action: 'delete',
          subject: `mysql user ${a.name}@${acc.host}`,
          details: [a.state === 'absent' ? 'drop' : 'host not allowed any more'],
          ops: sqlOp([`DROP USER ${account(a.name, acc.host)};`]),
        });
    }
    if (a.state === 'present') {
      for (const host of a.hosts) {
        const acc = s.accounts.find((x) => x.host === host);
        const who = `mysql user ${a.name}@${host}`;
        if (!acc) {
          const ident = a.password !== undefined ? ` IDENTIFIED BY ${sqlString(a.password)}` : '';
          list.push({
            action: 'create',
            subject: who,
            details: [
              a.password ? 'with password' : 'no password',
              ...Object.entries(a.privileges).map(([on, p]) => `${normalisePrivileges(p)} on ${on}`),
            ],
            ops: sqlOp([`CREATE USER ${account(a.name, host)}${ident};`, ...grantStatements(a, host)]),
          });
          continue;
        }
        if (
          a.password !== undefined &&
          (acc.plugin !== 'mysql_native_password' || acc.authentication !== nativePasswordHash(a.password))
        ) {
          list.push({
            action: 'update',
            subject: who,
            details: ['password changed'],
            ops: sqlOp([`ALTER USER ${account(a.name, host)} IDENTIFIED BY ${sqlString(a.password)};`]),
          });
        }
        if (!grantsMatch(a, acc)) {
          const have = [...parseGrants(acc.grants)].map(([on, p]) => `${p} on ${on}`).join('; ') || 'none';
          const want =
            Object.entries(a.privileges)
              .map(([on, p]) => `${normalisePrivileges(p)} on ${on}`)
              .join('; ') || 'none';
          list.push({
            action: 'update',
            subject: who,
            details: [`grants ${have} -> ${want}`],
            ops: sqlOp([
              `REVOKE ALL PRIVILEGES, GRANT OPTION FROM ${account(a.name, host)};`,
              ...grantStatements(a, host),
            ]),
          });
        }
      }
    }
    if (list.length === 0)
      return noop(
        a.state === 'absent'
          ? `mysql user ${a.name} does not exist`
          : `mysql user ${a.name} is as wanted on ${a.hosts.join(', ')}`,
      );
    return changes(...list);
  },
});
