import { createHash } from 'node:crypto';

/** Unescapes a MariaDB string literal as the modules write it. */
function unquote(lit: string): string {
  return lit.slice(1, -1).replace(/\\n/g, '\n').replace(/\\(.)/g, '$1');
}

const STR = String.raw`'(?:[^'\\]|\\.)*'`;

interface Account {
  password?: string;
  grants: Map<string, string>;
}

/**
 * Just enough of MariaDB for unit tests: the statements the mysql modules generate, and the
 * text the mysql facts read. The e2e suite runs the real server.
 */
export class FakeMysql {
  running = true;
  readonly databases = new Map<string, { charset: string; collation: string }>();
  /** "user@host" -> account */
  readonly accounts = new Map<string, Account>();

  execute(sql: string): number {
    for (const raw of sql.split(/;\s*\n?/)) {
      const st = raw.trim();
      if (!st) continue;
      let m: RegExpExecArray | null;
      if ((m = /^CREATE DATABASE `(\w+)` CHARACTER SET (\w+) COLLATE (\w+)$/.exec(st)))
        this.databases.set(m[1] ?? '', { charset: m[2] ?? '', collation: m[3] ?? '' });
      else if ((m = /^ALTER DATABASE `(\w+)` CHARACTER SET (\w+) COLLATE (\w+)$/.exec(st)))
        this.databases.set(m[1] ?? '', { charset: m[2] ?? '', collation: m[3] ?? '' });
      else if ((m = /^DROP DATABASE `(\w+)`$/.exec(st))) this.databases.delete(m[1] ?? '');
      else if ((m = new RegExp(`^CREATE USER (${STR})@(${STR})(?: IDENTIFIED BY (${STR}))?$`).exec(st))) {
        const pw = m[3] ? unquote(m[3]) : undefined;
        this.accounts.set(`${unquote(m[1] ?? '')}@${unquote(m[2] ?? '')}`, {
          ...(pw !== undefined ? { password: pw } : {}),
          grants: new Map(),
        });
      } else if ((m = new RegExp(`^ALTER USER (${STR})@(${STR}) IDENTIFIED BY (${STR})$`).exec(st))) {
        const acc = this.accounts.get(`${unquote(m[1] ?? '')}@${unquote(m[2] ?? '')}`);
        if (!acc) return 1;
        acc.password = unquote(m[3] ?? '');
      } else if ((m = new RegExp(`^DROP USER (${STR})@(${STR})$`).exec(st)))
        this.accounts.delete(`${unquote(m[1] ?? '')}@${unquote(m[2] ?? '')}`);
      else if ((m = new RegExp(`^GRANT (.+) ON (\\S+) TO (${STR})@(${STR})$`).exec(st))) {
        const acc = this.accounts.get(`${unquote(m[3] ?? '')}@${unquote(m[4] ?? '')}`);
        if (!acc) return 1;
        acc.grants.set((m[2] ?? '').replace(/`/g, ''), m[1] ?? '');
      } else if ((m = new RegExp(`^REVOKE ALL PRIVILEGES, GRANT OPTION FROM (${STR})@(${STR})$`).exec(st))) {
        this.accounts.get(`${unquote(m[1] ?? '')}@${unquote(m[2] ?? '')}`)?.grants.clear();
      } else return 1;
    }
    return 0;
  }

  databaseOutput(name: string): string {
    if (!this.running) return 'no-mysql server not running or root cannot log in over the socket\n';
    const db = this.databases.get(name);
    return `ok\n${db ? `${db.charset}\t${db.collation}\n` : ''}`;
  }

  userOutput(name: string): string {
    if (!this.running) return 'no-mysql server not running or root cannot log in over the socket\n';
    let rows = '';
    let grants = '';
    for (const [key, acc] of [...this.accounts].sort()) {
      const [user, host] = key.split('@');
      if (user !== name) continue;
      const hash =
        acc.password === undefined
          ? ''
          : `*${createHash('sha1').update(createHash('sha1').update(acc.password).digest()).digest('hex').toUpperCase()}`;
      rows += `account\t${host}\t${hash}\tmysql_native_password\n`;
      grants += `GRANT USAGE ON *.* TO \`${user}\`@\`${host}\`${hash ? ` IDENTIFIED BY PASSWORD '${hash}'` : ''}\n`;
      for (const [on, privs] of acc.grants) {
        const [db = '*', table = '*'] = on.split('.');
        const obj = `${db === '*' ? '*' : `\`${db}\``}.${table === '*' ? '*' : `\`${table}\``}`;
        grants += `GRANT ${privs.replace(/^ALL$/, 'ALL PRIVILEGES')} ON ${obj} TO \`${user}\`@\`${host}\`\n`;
      }
    }
    return `ok\n${rows}${grants}`;
  }
}
