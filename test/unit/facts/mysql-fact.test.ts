import { describe, expect, it } from 'vitest';
import { databaseFact, mysqlUserFact, parseMysqlUser } from '../../../src/facts/mysql.js';
import { runLocalSh } from '../../support/local-sh.js';

describe('mysql facts', () => {
  it('their scripts are valid sh (checked with sh -n), heredocs included', () => {
    for (const f of [databaseFact('kanka'), mysqlUserFact("o'brien")]) {
      const r = runLocalSh(`sh -n <<'CHECK_EOF'\n( ${f.script().text}\n)\nCHECK_EOF`);
      expect(r.code, r.stderr).toBe(0);
    }
  });

  it('parse accounts and their grants (captured from MariaDB 10.11)', () => {
    const out = [
      'ok',
      'account\t10.213.7.15\t*8A2D5B7C3E1F00AA\tmysql_native_password',
      'account\tlocalhost\t\tunix_socket',
      "GRANT USAGE ON *.* TO `kanka`@`10.213.7.15` IDENTIFIED BY PASSWORD '*8A2D5B7C3E1F00AA'",
      'GRANT ALL PRIVILEGES ON `kanka`.* TO `kanka`@`10.213.7.15`',
      'GRANT USAGE ON *.* TO `kanka`@`localhost`',
    ].join('\n');
    const s = parseMysqlUser(out);
    expect(s.available && s.accounts.map((a) => [a.host, a.grants.length])).toEqual([
      ['10.213.7.15', 2],
      ['localhost', 1],
    ]);
  });

  it('a missing server is reported, not parsed as no users', () => {
    expect(parseMysqlUser('no-mysql client not installed\n')).toEqual({
      available: false,
      reason: 'client not installed',
    });
  });
});
