import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/diagnostics/usage-error.js';
import { decryptOrThrow, decryptWithSecrets } from '../../../src/secrets/load-secrets.js';
import { encryptVault } from '../../../src/secrets/vault-format.js';
import { parseVaultId, tryOrder, vaultIdOf } from '../../../src/secrets/vault-id.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');

describe('parseVaultId', () => {
  it('label@source, a bare source (label "default"), and prompt', () => {
    expect(parseVaultId('prod@~/.pw')).toEqual({ label: 'prod', file: '~/.pw', text: 'prod@~/.pw' });
    expect(parseVaultId('pw.txt')).toEqual({ label: 'default', file: 'pw.txt', text: 'pw.txt' });
    expect(parseVaultId('dev@prompt')).toEqual({ label: 'dev', text: 'dev@prompt' });
    expect(parseVaultId('prompt')).toEqual({ label: 'default', text: 'prompt' });
    expect(parseVaultId('a@b@c')).toEqual({ label: 'a', file: 'b@c', text: 'a@b@c' });
  });

  it('labels that cannot go into a header, and an empty source: UsageError', () => {
    expect(() => parseVaultId('@pw')).toThrow(UsageError);
    expect(() => parseVaultId('a;b@pw')).toThrow(/contains a ";"/);
    expect(() => parseVaultId('prod@')).toThrow(/no password source/);
  });
});

describe('trying passwords', () => {
  const prod = { label: 'prod', password: 'prod-pw' };
  const dflt = { label: 'default', password: 'default-pw' };

  it('tryOrder: the matching label first, then the others in order', () => {
    const dev = { label: 'dev', password: 'x' };
    expect(tryOrder([dflt, dev, prod], 'prod').map((s) => s.label)).toEqual(['prod', 'default', 'dev']);
    expect(tryOrder([dflt, dev, prod], undefined).map((s) => s.label)).toEqual(['default', 'dev', 'prod']);
  });

  it('decryptWithSecrets uses the matching label first, and falls back to the others', () => {
    const sameText = encryptVault('a: b\n', 'shared', { vaultId: 'prod' });
    const both = [
      { label: 'default', password: 'shared' },
      { label: 'prod', password: 'shared' },
    ];
    expect(decryptWithSecrets(sameText, both, 'f').secret.label).toBe('prod');
    const unlabelled = encryptVault('a: b\n', 'prod-pw');
    expect(decryptWithSecrets(unlabelled, [dflt, prod], 'f').secret.label).toBe('prod');
    expect(() => decryptWithSecrets(unlabelled, [dflt], 'f')).toThrow(
      /^f: wrong vault password \(HMAC mismatch\)\n {2}hint: /,
    );
    expect(() => decryptOrThrow(unlabelled, [dflt, { label: 'dev', password: 'y' }], 'f')).toThrow(
      /wrong vault password \(HMAC mismatch\) \(tried 2 passwords, vault IDs: default, dev\)/,
    );
  });

  it('reads the fixture written by ansible-vault 2.14 with --vault-id prod@prod.vault-password', () => {
    const data = readFileSync(join(FIXTURES, 'prod.vault.yml'));
    const password = readFileSync(join(FIXTURES, 'prod.vault-password'), 'utf8').trim();
    expect(vaultIdOf(data, 'prod.vault.yml')).toBe('prod');
    const opened = decryptWithSecrets(data, [dflt, { label: 'prod', password }], 'prod.vault.yml');
    expect(opened.secret.label).toBe('prod');
    expect(opened.plaintext.toString()).toBe('db_password: s3cret-from-ansible\nmail:\n  api_key: mail-k3y\n');
  });
});
