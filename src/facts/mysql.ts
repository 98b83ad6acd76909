import type { Fact, SharedPrelude } from './fact.js';
import { lines, sh, type ShellCommand } from '../shell/command.js';
import { heredoc } from '../shell/heredoc.js';

/** SQL string literal (MariaDB, default sql_mode: backslash escapes). */
export function sqlString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
}

/** The mysql client as root over the local socket (Debian's root uses unix_socket auth). */
export const MYSQL = sh`mysql --protocol=socket -N -B`;

/** Why mysql could not be asked. */
export interface MysqlUnavailable {
  available: false;
  reason: string;
}

/** Sets KANKA_MYSQL to "ok", or to why mysql cannot be asked ("no-mysql ..."). */
const ASK_MYSQL = sh`if ! command -v mysql >/dev/null 2>&1; then KANKA_MYSQL='no-mysql client not installed'; elif ! ${MYSQL} -e 'SELECT 1' >/dev/null 2>&1; then KANKA_MYSQL='no-mysql server not running or root cannot log in over the socket'; else KANKA_MYSQL=ok; fi`;

/** Whether mysql answers, asked once per probe (each client start costs the host several ms). */
const mysqlPrelude: SharedPrelude = { id: 'mysql', script: () => ASK_MYSQL };

export function unavailable(output: string): MysqlUnavailable | undefined {
  const m = /^no-mysql (.*)$/m.exec(output);
  return m ? { available: false, reason: m[1] ?? '' } : undefined;
}

/**
 * A fact read with the mysql client: its SQL runs only when mysql answers; otherwise the fact says
 * why ("no-mysql ..."), so plans can say what waits for what.
 */
export function mysqlFact<T>(
  id: string,
  kind: string,
  name: string,
  sql: ShellCommand,
  parse: (output: string) => T,
): Fact<T | MysqlUnavailable> {
  return {
    id,
    kind,
    params: { name },
    shared: { prelude: mysqlPrelude, items: [] },
    script: () =>
      lines([
        sh`if [ -z "\${KANKA_MYSQL:-}" ]; then ${ASK_MYSQL}; fi`,
        sh`if [ "$KANKA_MYSQL" != ok ]; then echo "$KANKA_MYSQL"; exit 0; fi`,
        sh`echo ok`,
        sql,
      ]),
    parse: (output) => unavailable(output) ?? parse(output),
  };
}

export type DatabaseState =
  MysqlUnavailable | { available: true; exists: boolean; charset?: string; collation?: string };

export function databaseFact(name: string): Fact<DatabaseState> {
  const sql = `SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ${sqlString(name)}`;
  return mysqlFact(`mysql-db:${name}`, 'mysql-database', name, heredoc(MYSQL, sql), (output): DatabaseState => {
    const row = output
      .split('\n')
      .slice(1)
      .find((l) => l.includes('\t'));
    if (!row) return { available: true, exists: false };
    const [charset = '', collation = ''] = row.split('\t');
    return { available: true, exists: true, charset, collation };
  });
}

export interface MysqlAccount {
  host: string;
  authentication: string;
  plugin: string;
  grants: string[];
}

export type UserAccountsState = MysqlUnavailable | { available: true; accounts: MysqlAccount[] };

/** Every account of a user name, with its password hash and its grants (SHOW GRANTS). */
export function mysqlUserFact(name: string): Fact<UserAccountsState> {
  const where = `FROM mysql.user WHERE User = ${sqlString(name)}`;
  const sql = lines([
    heredoc(MYSQL, `SELECT 'account', Host, authentication_string, plugin ${where} ORDER BY Host;`),
    // SQL writes the SHOW GRANTS statements itself (QUOTE() escapes the host): no shell quoting of data.
    heredoc(MYSQL, `SELECT CONCAT('SHOW GRANTS FOR ', QUOTE(User), '@', QUOTE(Host), ';') ${where};`, sh`| ${MYSQL}`),
  ]);
  return mysqlFact(`mysql-user:${name}`, 'mysql-user', name, sql, parseMysqlUser);
}

export function parseMysqlUser(output: string): UserAccountsState {
  const u = unavailable(output);
  if (u) return u;
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
