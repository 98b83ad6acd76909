import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isEncryptedKey, KeyFileError, readKeyFile, unlockKey } from '../../../src/transport/ssh-keys.js';
import { sshKeygen } from '../../support/ssh-keygen.js';
import { tempTree } from '../../support/tmp.js';

let dir = '';
beforeAll(() => {
  dir = tempTree({ 'garbage.key': 'not a key\n' }, { until: 'file' });
}, 60_000);

function thrown(f: () => unknown): KeyFileError {
  try {
    f();
  } catch (err) {
    if (err instanceof KeyFileError) return err;
    throw err;
  }
  throw new Error('expected a KeyFileError');
}

describe('SSH key files', { timeout: 30_000 }, () => {
  it('an unencrypted ed25519 key (OpenSSH format) parses at once', () => {
    const file = sshKeygen(dir, 'plain_ed25519', { type: 'ed25519' });
    const read = readKeyFile(file);
    expect(read.encrypted).toBe(false);
    if (!read.encrypted) expect(read.key.type).toBe('ssh-ed25519');
  });

  const protectedKeys = [
    { name: 'OpenSSH ed25519', opts: { type: 'ed25519' as const }, type: 'ssh-ed25519' },
    { name: 'PEM RSA', opts: { type: 'rsa' as const, pem: true }, type: 'ssh-rsa' },
    { name: 'OpenSSH ECDSA', opts: { type: 'ecdsa' as const }, type: 'ecdsa-sha2-nistp256' },
  ];
  for (const k of protectedKeys) {
    it(`a passphrase-protected ${k.name} key is recognised, opens with its passphrase, and refuses a wrong one`, () => {
      const file = sshKeygen(dir, `protected_${k.opts.type}`, { ...k.opts, passphrase: 'correct horse' });
      const read = readKeyFile(file);
      expect(read.encrypted).toBe(true);
      if (!read.encrypted) return;
      expect(unlockKey(read, 'correct horse').type).toBe(k.type);
      const wrong = thrown(() => unlockKey(read, 'battery staple'));
      expect(wrong.problem).toMatch(/wrong passphrase/);
      expect(wrong.message).toContain(file);
      expect(wrong.message).not.toContain('battery staple');
    });
  }

  it('a missing file, a directory, a public key and a non-key are errors that say what to fix', () => {
    const missing = thrown(() => readKeyFile(join(dir, 'nope')));
    expect(missing.problem).toBe('cannot read it: file not found');
    expect(missing.hint).toMatch(/ssh\.key_file/);
    mkdirSync(join(dir, 'a-dir'), { recursive: true });
    expect(thrown(() => readKeyFile(join(dir, 'a-dir'))).problem).toMatch(/is a directory/);
    const pub = sshKeygen(dir, 'pub_ed25519', { type: 'ed25519' });
    expect(thrown(() => readKeyFile(`${pub}.pub`)).problem).toBe('this is a public key');
    expect(thrown(() => readKeyFile(join(dir, 'garbage.key'))).problem).toMatch(/not a private key/);
  });

  it('encryption is read from the format, not guessed from a parse error', () => {
    const plainPem = sshKeygen(dir, 'plain_rsa_pem', { type: 'rsa', pem: true });
    expect(isEncryptedKey(readFileSync(plainPem))).toBe(false);
    expect(isEncryptedKey(readFileSync(sshKeygen(dir, 'enc_ed', { type: 'ed25519', passphrase: 'x' })))).toBe(true);
    expect(isEncryptedKey(Buffer.from('PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\n'))).toBe(false);
    expect(isEncryptedKey(Buffer.from('PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: aes256-cbc\n'))).toBe(true);
  });
});
