import type { Fact, SharedPrelude } from './fact.js';
import { heredoc } from '../shell/quote.js';

/** SQL string literal (MariaDB, default sql_mode: backslash escapes). */
export function sqlString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
}

/** The mysql client as root over the local socket (Debian's root uses unix_socket auth). */
export const MYSQL = 'mysql --protocol=socket -N -B';

export type MysqlAvailability = { available: false; reason: string } | { available: true };

/** Sets KANKA_MYSQL to "ok", or to why mysql cannot be asked ("no-mysql ..."). */
const ASK_MYSQL = `if ! command -v mysql >/dev/null 2>&1; then KANKA_MYSQL='no-mysql client not installed'; elif ! ${MYSQL} -e 'SELECT 1' >/dev/null 2>&1; then KANKA_MYSQL='no-mysql server not running or root cannot log in over the socket'; else KANKA_MYSQL=ok; fi`;

/** Whether mysql answers, asked once per probe (each client start costs the host several ms). */
const mysqlPrelude: SharedPrelude = { id: 'mysql', script: () => ASK_MYSQL };

/** Prints "no-mysql" when the client or server is missing, so plans can say what waits for what. */
function guard(): string {
  return `if [ -z "\${KANKA_MYSQL:-}" ]; then ${ASK_MYSQL}; fi\nif [ "$KANKA_MYSQL" != ok ]; then echo "$KANKA_MYSQL"; exit 0; fi`;
}

const shared = { prelude: mysqlPrelude, item: 'mysql' } as const;

function unavailable(output: string): MysqlAvailability | undefined {
  const m = /^no-mysql (.*)$/m.exec(output);
  return m ? { available: false, reason: m[1] ?? '' } : undefined;
}

export type DatabaseState = (MysqlAvailability & { available: false }) | { available: true; exists: boolean; charset?: string; collation?: string };

export function databaseFact(name: string): Fact<DatabaseState> {
  const sql = `SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ${sqlString(name)}`;
  return {
    id: `mysql-db:${name}`,
    kind: 'mysql-database',
    params: { name },
    shared,
    script: () => `${guard()}\necho ok\n${heredoc(MYSQL, sql)}`,
    parse: (output) => {
      const u = unavailable(output);
      if (u && !u.available) return u;
      const row = output.split('\n').slice(1).find((l) => l.includes('\t'));
      if (!row) return { available: true, exists: false };
      const [charset = '', collation = ''] = row.split('\t');
      return { available: true, exists: true, charset, collation };
    },
  };
}

export interface MysqlAccount {
  host: string;
  authentication: string;
  plugin: string;
  grants: string[];
}

export type UserAccountsState = (MysqlAvailability & { available: false }) | { available: true; accounts: MysqlAccount[] };

/** Every account of a user name, with its password hash and its grants (SHOW GRANTS). */
export function mysqlUserFact(name: string): Fact<UserAccountsState> {
  const where = `FROM mysql.user WHERE User = ${sqlString(name)}`;
  return {
    id: `mysql-user:${name}`,
    kind: 'mysql-user',
    params: { name },
    shared,
    script: () =>
      [
        guard(),
        'echo ok',
        heredoc(MYSQL, `SELECT 'account', Host, authentication_string, plugin ${where} ORDER BY Host;`),
        // SQL writes the SHOW GRANTS statements itself (QUOTE() escapes the host): no shell quoting of data.
        heredoc(MYSQL, `SELECT CONCAT('SHOW GRANTS FOR ', QUOTE(User), '@', QUOTE(Host), ';') ${where};`, `| ${MYSQL}`),
      ].join('\n'),
    parse: (output) => parseMysqlUser(output),
  };
}

export function parseMysqlUser(output: string): UserAccountsState {
  const u = unavailable(output);
  if (u && !u.available) return u;
  const accounts: MysqlAccount[] = [];
  const lines = output.split('\n');
  for (const line of lines) {
    const [tag, host = '', auth = '', plugin = ''] = line.split('\t');
    if (tag === 'account') accounts.push({ host, authentication: auth, plugin, grants: [] });
  }
  for (const line of lines) {
    if (!line.startsWith('GRANT ')) continue;
    const m = / TO [`'"]?[^`'"@]*[`'"]?@[`'"]([^`'"]*)[`'"]/.exec(line);
    accounts.find((a) => a.host === m?.[1])?.grants.push(line);
  }
  return { available: true, accounts };
}
