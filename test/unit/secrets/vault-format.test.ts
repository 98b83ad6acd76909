import { describe, expect, it } from 'vitest';
import {
  decryptVault,
  encryptVault,
  isVaultText,
  parseVaultEnvelope,
  VaultError,
  VAULT_HEADER,
} from '../../../src/secrets/vault-format.js';

// Known-answer vectors written by Ansible itself, copied from ansible/ansible,
// test/units/parsing/vault/test_vault.py (commit 0404235bddb581fca0fafea9e6153dd327f37c26):
//   TestVaultLib.test_encrypt_decrypt_aes256_existing_vault: password "test-vault-password"
//     (TestVaultLib.setUp), plaintext b"Setec Astronomy"
//   TestVaultLib.test_decrypt_non_default_1_2: password "ansible", plaintext b"foo bar\n", format 1.2
//   TestFileVaultSecret.test_file_encrypted: password "test-vault-password", plaintext "some password"
//     (the test compares after FileVaultSecret strips the file; the vault holds "some password\n")
const SETEC = `$ANSIBLE_VAULT;1.1;AES256
33363965326261303234626463623963633531343539616138316433353830356566396130353436
3562643163366231316662386565383735653432386435610a306664636137376132643732393835
63383038383730306639353234326630666539346233376330303938323639306661313032396437
6233623062366136310a633866373936313238333730653739323461656662303864663666653563
3138`;

const FOO_BAR_1_2 = `$ANSIBLE_VAULT;1.2;AES256;ansible_devel
65616435333934613466373335363332373764363365633035303466643439313864663837393234
3330656363343637313962633731333237313636633534630a386264363438363362326132363239
39363166646664346264383934393935653933316263333838386362633534326664646166663736
6462303664383765650a356637643633366663643566353036303162386237336233393065393164
6264`;

const SOME_PASSWORD = `$ANSIBLE_VAULT;1.1;AES256
61393863643638653437313566313632306462383837303132346434616433313438353634613762
3334363431623364386164616163326537366333353663650a663634306232363432626162353665
39623061353266373631636331643761306665343731376633623439313138396330346237653930
6432643864346136640a653364386634666461306231353765636662316335613235383565306437
3737
`;

/** The salt ansible stored in a vault text (first field of the inner payload). */
function saltOf(vault: string): Buffer {
  const inner = Buffer.from(vault.split('\n').slice(1).join(''), 'hex').toString('latin1');
  return Buffer.from(inner.split('\n')[0] ?? '', 'hex');
}

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}

describe('ansible-vault known answers (from ansible/ansible unit tests)', () => {
  it('decrypts the 1.1 vault written by ansible', () => {
    expect(decryptVault(SETEC, 'test-vault-password', 'setec.yml').toString('utf8')).toBe('Setec Astronomy');
    expect(decryptVault(SOME_PASSWORD, 'test-vault-password', 'pw.yml').toString('utf8')).toBe('some password\n');
  });

  it('decrypts the 1.2 vault (with a vault id) written by ansible', () => {
    expect(decryptVault(FOO_BAR_1_2, 'ansible', 'foo.yml').toString('utf8')).toBe('foo bar\n');
    expect(parseVaultEnvelope(FOO_BAR_1_2, 'foo.yml')).toMatchObject({
      version: '1.2',
      cipher: 'AES256',
      vaultId: 'ansible_devel',
    });
  });

  it('encrypts to exactly the bytes ansible wrote, given the same salt', () => {
    expect(encryptVault('Setec Astronomy', 'test-vault-password', { salt: saltOf(SETEC) })).toBe(`${SETEC}\n`);
    expect(encryptVault('some password\n', 'test-vault-password', { salt: saltOf(SOME_PASSWORD) })).toBe(SOME_PASSWORD);
    expect(encryptVault('foo bar\n', 'ansible', { salt: saltOf(FOO_BAR_1_2), vaultId: 'ansible_devel' })).toBe(
      `${FOO_BAR_1_2}\n`,
    );
  });
});

describe('encryptVault / decryptVault', () => {
  it('round trips text, unicode, binary and empty content', () => {
    for (const plain of ['db_password: s3cret\n', 'café ☕ 私\n', '', 'x'.repeat(16), 'y'.repeat(1000)]) {
      const v = encryptVault(plain, 'pw');
      expect(decryptVault(v, 'pw', 'f').toString('utf8')).toBe(plain);
    }
    const bin = Buffer.from([0, 1, 2, 255, 254, 10, 13]);
    expect(decryptVault(encryptVault(bin, 'pw'), 'pw', 'f').equals(bin)).toBe(true);
  });

  it('writes the 1.1 header, 80-column lowercase hex lines and a final newline; fresh salt each time', () => {
    const v = encryptVault('a: b\n'.repeat(50), 'pw');
    const lines = v.split('\n');
    expect(lines[0]).toBe(VAULT_HEADER);
    expect(lines.at(-1)).toBe('');
    const body = lines.slice(1, -1);
    expect(body.slice(0, -1).every((l) => l.length === 80)).toBe(true);
    expect(body.every((l) => /^[0-9a-f]+$/.test(l) && l.length <= 80)).toBe(true);
    expect(encryptVault('same', 'pw')).not.toBe(encryptVault('same', 'pw'));
    expect(v).not.toContain('a: b');
  });

  it('writes 1.2 with a vault id, 1.1 for "default"', () => {
    expect(encryptVault('x', 'pw', { vaultId: 'prod' }).split('\n')[0]).toBe('$ANSIBLE_VAULT;1.2;AES256;prod');
    expect(encryptVault('x', 'pw', { vaultId: 'default' }).split('\n')[0]).toBe(VAULT_HEADER);
  });

  it('wrong password: a clear error naming the file, no plaintext', () => {
    const err = errorOf(() => decryptVault(SETEC, 'hunter42', 'inventory/prod.secrets.yml'));
    expect(err).toBeInstanceOf(VaultError);
    expect((err as VaultError).kind).toBe('wrong-password');
    expect((err as Error).message).toBe('wrong vault password for inventory/prod.secrets.yml (HMAC mismatch)');
    expect((err as Error).message).not.toContain('Setec');
  });

  it('rejects tampered ciphertext, HMAC or salt (HMAC checked before decrypting)', () => {
    const v = encryptVault('db_password: s3cret\n', 'pw');
    const inner = Buffer.from(v.split('\n').slice(1).join(''), 'hex').toString('latin1').split('\n');
    const rebuild = (salt: string, mac: string, ct: string) =>
      `${VAULT_HEADER}\n${Buffer.from(`${salt}\n${mac}\n${ct}`, 'latin1').toString('hex')}\n`;
    const [salt = '', mac = '', ct = ''] = inner;
    const flip = (hex: string, at: number) => hex.slice(0, at) + (hex[at] === '0' ? '1' : '0') + hex.slice(at + 1);
    expect(decryptVault(rebuild(salt, mac, ct), 'pw', 'f').toString()).toBe('db_password: s3cret\n');
    for (const tampered of [
      rebuild(salt, mac, flip(ct, 3)),
      rebuild(salt, flip(mac, 0), ct),
      rebuild(flip(salt, 5), mac, ct),
      rebuild(salt, mac.slice(0, -2), ct),
    ]) {
      expect((errorOf(() => decryptVault(tampered, 'pw', 'f')) as VaultError).kind).toBe('wrong-password');
    }
  });

  it('accepts CRLF line ends, surrounding spaces in the header and no final newline', () => {
    expect(decryptVault(SETEC.replace(/\n/g, '\r\n'), 'test-vault-password', 'f').toString()).toBe('Setec Astronomy');
    expect(
      decryptVault(SETEC.replace(VAULT_HEADER, '$ANSIBLE_VAULT; 1.1 ;AES256 '), 'test-vault-password', 'f').toString(),
    ).toBe('Setec Astronomy');
    expect(decryptVault(Buffer.from(`${SETEC}\n\n`), 'test-vault-password', 'f').toString()).toBe('Setec Astronomy');
  });

  it('header variants: recognised, unsupported, not a vault', () => {
    expect(isVaultText('$ANSIBLE_VAULT;1.1;AES256\n00')).toBe(true);
    expect(isVaultText(Buffer.from('$ANSIBLE_VAULT;1.2;AES256;x\n'))).toBe(true);
    expect(isVaultText('db_password: x\n')).toBe(false);
    expect(isVaultText('')).toBe(false);

    const notVault = errorOf(() => decryptVault('db_password: s3cret\n', 'pw', 'plain.yml')) as VaultError;
    expect(notVault.kind).toBe('not-a-vault');
    expect(notVault.message).toMatch(/^plain\.yml: not an ansible-vault file/);
    expect(notVault.message).not.toContain('s3cret');

    const legacy = errorOf(() => decryptVault('$ANSIBLE_VAULT;1.0;AES\n3030', 'pw', 'old.yml')) as VaultError;
    expect(legacy.kind).toBe('unsupported');
    expect(legacy.message).toMatch(/rekey/);
    expect((errorOf(() => decryptVault(SETEC.replace('AES256', 'AES128'), 'pw', 'f')) as VaultError).message).toMatch(
      /unsupported vault cipher "AES128"/,
    );
    expect((errorOf(() => decryptVault(SETEC.replace('1.1', '9.9'), 'pw', 'f')) as VaultError).message).toMatch(
      /unsupported vault format version "9\.9"/,
    );
  });

  it('malformed payloads are format errors, not crashes', () => {
    expect((errorOf(() => decryptVault(`${VAULT_HEADER}\n`, 'pw', 'f')) as VaultError).kind).toBe('malformed');
    expect((errorOf(() => decryptVault(`${VAULT_HEADER}\nzz11\n`, 'pw', 'f')) as VaultError).kind).toBe('malformed');
    expect(
      (
        errorOf(() =>
          decryptVault(`${VAULT_HEADER}\n${Buffer.from('abcd').toString('hex')}\n`, 'pw', 'f'),
        ) as VaultError
      ).kind,
    ).toBe('malformed');
    const odd = SETEC.slice(0, -1); // drop one hex digit
    expect((errorOf(() => decryptVault(odd, 'test-vault-password', 'f')) as VaultError).kind).toBe('malformed');
  });

  it('refuses an empty password when encrypting', () => {
    expect(() => encryptVault('x', '')).toThrow(/empty vault password/);
  });
});
