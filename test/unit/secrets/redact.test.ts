import { describe, expect, it } from 'vitest';
import { MIN_REDACTED_LENGTH, Redactor } from '../../../src/secrets/redact.js';
import { Secret } from '../../../src/secrets/secret.js';

describe('Redactor', () => {
  it('masks every occurrence inside a multi-line diff and leaves the rest alone', () => {
    const r = new Redactor(['s3cr3t-db', new Secret('mail-api-key')]);
    const diff = [
      '--- /etc/app/.env',
      '+++ /etc/app/.env',
      '@@ -1,3 +1,3 @@',
      '-DB_PASSWORD=old',
      '+DB_PASSWORD=s3cr3t-db',
      ' MAIL_KEY=mail-api-key # mail-api-key again',
      '+URL=mysql://app:s3cr3t-db@db1/app',
    ].join('\n');
    expect(r.redact(diff)).toBe(
      [
        '--- /etc/app/.env',
        '+++ /etc/app/.env',
        '@@ -1,3 +1,3 @@',
        '-DB_PASSWORD=old',
        '+DB_PASSWORD=<secret>',
        ' MAIL_KEY=<secret> # <secret> again',
        '+URL=mysql://app:<secret>@db1/app',
      ].join('\n'),
    );
    expect(r.redact('nothing secret here\n')).toBe('nothing secret here\n');
    expect(r.redact('')).toBe('');
  });

  it('longest value first; overlapping values leave no partial leak', () => {
    const r = new Redactor(['pass', 'password123', 'abcdef', 'defghi']);
    expect(r.redact('x password123 y pass z')).toBe('x <secret> y <secret> z');
    expect(r.redact('[abcdefghi]')).toBe('[<secret>]');
    expect(r.redact('pass1234')).toBe('<secret>1234');
  });

  it('escapes regex metacharacters and handles unicode', () => {
    const r = new Redactor(['a.b*c+(d)?[e]{2}|^$\\/-', 'pässwört☕😀x']);
    expect(r.redact('1 a.b*c+(d)?[e]{2}|^$\\/- 2 aXb*c 3 pässwört☕😀x 4')).toBe('1 <secret> 2 aXb*c 3 <secret> 4');
  });

  it('masks a value as JSON spells it too (quotes, backslashes and newlines escaped)', () => {
    const value = 'pa"ss\\wo\nrd';
    const r = new Redactor([value]);
    const json = JSON.stringify({ diff: `+pw=${value}\n` });
    expect(r.redact(json)).toBe('{"diff":"+pw=<secret>\\n"}');
    expect(r.redact(`pw=${value}`)).toBe('pw=<secret>');
    // The value, and its first line on its own (a multi-line secret is masked line by line too).
    expect(r.size).toBe(2);
  });

  it('masks a value as SQL, shell and double-quoted strings spell it back (MariaDB echoes IDENTIFIED BY in replication errors)', () => {
    const value = `x "q' \\d $HOME \`id\`; #c`;
    const r = new Redactor([value]);
    const sql = value.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
    expect(r.redact(`Query: 'ALTER USER 'kanka'@'h' IDENTIFIED BY '${sql}''`)).toBe(
      "Query: 'ALTER USER 'kanka'@'h' IDENTIFIED BY '<secret>''",
    );
    expect(r.redact(`echo '${value.replace(/'/g, "'\\''")}'`)).toBe("echo '<secret>'");
    expect(
      r.redact(`PW="${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\$/g, '\\$').replace(/`/g, '\\`')}"`),
    ).toBe('PW="<secret>"');
  });

  it(`masks values shorter than ${MIN_REDACTED_LENGTH} characters as whole words only, and counts duplicates once`, () => {
    const r = new Redactor(['on', 'yes', '1', 'long-enough', 'long-enough']);
    expect(r.size).toBe(4);
    expect(r.redact('on yes 1 long-enough')).toBe('<secret> <secret> <secret> <secret>');
    expect(r.redact('nothing 1042 yesterday')).toBe('nothing 1042 yesterday');
    expect(r.redact('password=on\nx:"1"')).toBe('password=<secret>\nx:"<secret>"');
    expect(Redactor.none().redact('anything')).toBe('anything');
  });

  it('masks each line of a multi-line secret, as a diff shows them apart', () => {
    const pem =
      '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n';
    const r = new Redactor([pem], '(sensitive)');
    const diff =
      '+-----BEGIN PRIVATE KEY-----\n+MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n+BKcwggSjAgEAAoIBAQC7\n+-----END PRIVATE KEY-----';
    const out = r.redact(diff);
    for (const line of pem.split('\n').filter((l) => l !== '')) expect(out).not.toContain(line);
    expect(out).toContain('+(sensitive)');
  });

  it('redactDeep masks strings in objects and arrays (keys too), keeps other values and shapes', () => {
    const r = new Redactor(['top-secret']);
    const doc = {
      host: 'web1',
      changes: [{ diff: '+pw=top-secret\n', after: { 'top-secret': 'x', n: 3, ok: true, none: null } }],
      secret: new Secret('top-secret'),
    };
    const out = r.redactDeep(doc);
    expect(JSON.stringify(out)).toBe(
      '{"host":"web1","changes":[{"diff":"+pw=<secret>\\n","after":{"<secret>":"x","n":3,"ok":true,"none":null}}],"secret":"<secret>"}',
    );
    expect(doc.changes[0]?.diff).toBe('+pw=top-secret\n'); // input not modified
    const cyclic: { name: string; self?: unknown } = { name: 'top-secret' };
    cyclic.self = cyclic;
    const c = r.redactDeep(cyclic);
    expect(c.name).toBe('<secret>');
    expect(c.self).toBe(c);
  });

  it('is fast: 500 secrets over a 5 MB diff well under a second', () => {
    const secrets = Array.from({ length: 500 }, (_, i) => `secret-${i}-${(i * 7919).toString(36)}-xyz`);
    const lines: string[] = [];
    for (let i = 0; i < 100_000; i++)
      lines.push(`+ line ${i}: value = ${i % 500 === 0 ? (secrets[i % 499] ?? '') : `sec-ret-${i}`}`);
    const text = lines.join('\n');
    const r = new Redactor(secrets);
    const t = performance.now();
    const out = r.redact(text);
    const ms = performance.now() - t;
    expect(out.match(/<secret>/g)?.length).toBe(200);
    expect(out).not.toMatch(/secret-\d+-/);
    expect(ms).toBeLessThan(1000);
  });
});
