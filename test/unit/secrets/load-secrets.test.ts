import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, formatDiagnostic } from '../../../src/diagnostics/diagnostic.js';
import { loadSecrets, resolveVaultPassword } from '../../../src/secrets/load-secrets.js';
import { Secret } from '../../../src/secrets/secret.js';
import { encryptVault } from '../../../src/secrets/vault-format.js';
import { tempTree } from '../../support/tmp.js';

function configErrorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).diagnostics.map(formatDiagnostic).join('\n');
  }
  throw new Error('expected a ConfigError');
}

describe('loadSecrets', () => {
  it('decrypts a YAML mapping into Secrets (nested, numbers as strings) and a redactor for all of them', () => {
    const plain = [
      'db_password: "s3cret-db"',
      'port_pin: 12345',
      'enabled: true',
      'short: abc',
      'mail:',
      '  api_key: mail-key-42',
      '  smtp:',
      '    pass: smtp-pass-x',
      '',
    ].join('\n');
    const dir = tempTree({ 'prod.secrets.yml': encryptVault(plain, 'pw') });
    const { values, redactor } = loadSecrets(join(dir, 'prod.secrets.yml'), 'pw');
    expect(Object.keys(values)).toEqual(['db_password', 'port_pin', 'enabled', 'short', 'mail']);
    const db = values['db_password'];
    expect(db).toBeInstanceOf(Secret);
    expect((db as Secret).reveal()).toBe('s3cret-db');
    expect((values['port_pin'] as Secret).reveal()).toBe('12345');
    expect((values['enabled'] as Secret).reveal()).toBe('true');
    const mail = values['mail'] as Record<string, unknown>;
    expect((mail['api_key'] as Secret).reveal()).toBe('mail-key-42');
    expect(((mail['smtp'] as Record<string, unknown>)['pass'] as Secret).reveal()).toBe('smtp-pass-x');
    expect(JSON.stringify(values)).not.toMatch(/s3cret|mail-key|smtp-pass|12345/);
    expect((values['short'] as Secret).reveal()).toBe('abc');
    // every value is masked in free text, "true" included; "abc" (short) as a whole word
    expect(redactor.redact('a s3cret-db b mail-key-42 c smtp-pass-x d 12345 e true f abc')).toBe(
      'a <secret> b <secret> c <secret> d <secret> e <secret> f <secret>',
    );
  });

  it('an empty vault is an empty mapping', () => {
    const dir = tempTree({ 'e.yml': encryptVault('', 'pw') });
    expect(loadSecrets(join(dir, 'e.yml'), 'pw').values).toEqual({});
  });

  it('wrong password, not a vault, missing file: ConfigError with file, message and hint', () => {
    const dir = tempTree({ 'v.yml': encryptVault('a: s3cret-value\n', 'pw'), 'plain.yml': 'a: s3cret-value\n' });
    const wrong = configErrorOf(() => loadSecrets(join(dir, 'v.yml'), 'nope'));
    expect(wrong).toContain(`${join(dir, 'v.yml')}: wrong vault password (HMAC mismatch)`);
    expect(wrong).toMatch(/hint: .*KANKA_VAULT_PASSWORD/);
    const plain = configErrorOf(() => loadSecrets(join(dir, 'plain.yml'), 'pw'));
    expect(plain).toMatch(/not an ansible-vault file/);
    expect(plain).toMatch(/hint: encrypt it with `kanka-infra vault encrypt/);
    expect(plain).not.toContain('s3cret-value');
    expect(configErrorOf(() => loadSecrets(join(dir, 'missing.yml'), 'pw'))).toMatch(
      /missing\.yml: cannot read the secrets vault: file not found/,
    );
  });

  it('content errors name the line and key, never the value', () => {
    const dir = tempTree({
      'list.yml': encryptVault('ok: fine-value\nkeys:\n  - s3cret-one\n', 'pw'),
      'null.yml': encryptVault('empty:\n', 'pw'),
      'scalar.yml': encryptVault('just-a-s3cret-string\n', 'pw'),
      'syntax.yml': encryptVault('a: [s3cret-unclosed\n', 'pw'),
      'dup.yml': encryptVault('a: s3cret-1\na: s3cret-2\n', 'pw'),
      'bin.yml': encryptVault(Buffer.from([0xff, 0xfe, 0x00]), 'pw'),
    });
    const list = configErrorOf(() => loadSecrets(join(dir, 'list.yml'), 'pw'));
    expect(list).toMatch(/list\.yml:3:3: keys: lists are not supported/);
    expect(configErrorOf(() => loadSecrets(join(dir, 'null.yml'), 'pw'))).toMatch(/empty: a secret must have a value/);
    expect(configErrorOf(() => loadSecrets(join(dir, 'scalar.yml'), 'pw'))).toMatch(/must be a YAML mapping/);
    const syntax = configErrorOf(() => loadSecrets(join(dir, 'syntax.yml'), 'pw'));
    expect(syntax).toMatch(/syntax\.yml:\d+:\d+: YAML syntax error in the decrypted content \([A-Z_]+\)/);
    const dup = configErrorOf(() => loadSecrets(join(dir, 'dup.yml'), 'pw'));
    expect(dup).toMatch(/DUPLICATE_KEY/);
    expect(configErrorOf(() => loadSecrets(join(dir, 'bin.yml'), 'pw'))).toMatch(/not UTF-8/);
    for (const text of [list, syntax, dup]) expect(text).not.toMatch(/s3cret/);
  });
});

describe('resolveVaultPassword', () => {
  it('order: option, KANKA_VAULT_PASSWORD_FILE, KANKA_VAULT_PASSWORD; none -> undefined', () => {
    const dir = tempTree({ 'opt.pw': 'from-option\n', 'env.pw': 'from-env-file\r\n' });
    const env = { KANKA_VAULT_PASSWORD_FILE: join(dir, 'env.pw'), KANKA_VAULT_PASSWORD: 'from-env' };
    expect(resolveVaultPassword({ passwordFile: join(dir, 'opt.pw'), env })).toBe('from-option');
    expect(resolveVaultPassword({ env })).toBe('from-env-file');
    expect(resolveVaultPassword({ env: { KANKA_VAULT_PASSWORD: 'from-env' } })).toBe('from-env');
    expect(resolveVaultPassword({ env: {} })).toBeUndefined();
    expect(resolveVaultPassword({ passwordFile: 'opt.pw', env: {}, cwd: dir })).toBe('from-option');
  });

  it('an executable password file is run, as ansible-vault does; refused where allowScript is false', () => {
    const dir = tempTree({ 'pw.sh': '#!/bin/sh\necho from-script\n' });
    chmodSync(join(dir, 'pw.sh'), 0o755);
    expect(resolveVaultPassword({ passwordFile: join(dir, 'pw.sh'), env: {} })).toBe('from-script');
    expect(resolveVaultPassword({ env: { KANKA_VAULT_PASSWORD_FILE: join(dir, 'pw.sh') } })).toBe('from-script');
    expect(
      configErrorOf(() => resolveVaultPassword({ passwordFile: join(dir, 'pw.sh'), env: {}, allowScript: false })),
    ).toMatch(/is executable: a password script named by the project is not run/);
  });

  it('missing or empty password file: ConfigError with a hint', () => {
    const dir = tempTree({ 'empty.pw': '\n' });
    expect(configErrorOf(() => resolveVaultPassword({ passwordFile: join(dir, 'nope.pw'), env: {} }))).toMatch(
      /nope\.pw: cannot read the vault password file \(from --vault-password-file\): file not found\n {2}hint: check the path/,
    );
    expect(
      configErrorOf(() => resolveVaultPassword({ env: { KANKA_VAULT_PASSWORD_FILE: join(dir, 'empty.pw') } })),
    ).toMatch(/is empty/);
    expect(configErrorOf(() => resolveVaultPassword({ passwordFile: dir, env: {} }))).toMatch(/is a directory/);
  });
});
