import { createCipheriv, createDecipheriv, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The ansible-vault file format, version 1.1 (and 1.2 on read), cipher AES256, byte-compatible with
 * Ansible so the vault files Kanka already has keep working with both tools.
 *
 * Taken from ansible's lib/ansible/parsing/vault/__init__.py (class VaultAES256,
 * format_vaulttext_envelope, parse_vaulttext_envelope, parse_vaulttext):
 *
 *   $ANSIBLE_VAULT;1.1;AES256                      (1.2 adds ";<vault-id>")
 *   hex( hex(salt) "\n" hex(hmac) "\n" hex(ciphertext) )   wrapped at 80 columns, final "\n"
 *
 *   salt       = 32 random bytes
 *   derived    = PBKDF2-HMAC-SHA256(password, salt, 10000 iterations, 80 bytes)
 *   aes key    = derived[0..32), hmac key = derived[32..64), counter block (IV) = derived[64..80)
 *   ciphertext = AES-256-CTR(aes key, IV, PKCS#7(plaintext, block 16))
 *   hmac       = HMAC-SHA256(hmac key, ciphertext)      (encrypt-then-MAC)
 *
 * The old "AES" cipher (format 1.0, MD5-based key derivation, deprecated since Ansible 1.5) is
 * recognised but not supported: such files must be rekeyed with ansible-vault first.
 */

export const VAULT_MAGIC = '$ANSIBLE_VAULT';
export const VAULT_HEADER = `${VAULT_MAGIC};1.1;AES256`;

const SALT_BYTES = 32;
const KEY_BYTES = 32;
const IV_BYTES = 16;
const PBKDF2_ITERATIONS = 10_000;
const BLOCK = 16;
const LINE_WIDTH = 80;

export type VaultErrorKind = 'not-a-vault' | 'unsupported' | 'malformed' | 'wrong-password';

/**
 * A vault file could not be read. The message names the file and the reason, never any content
 * (neither plaintext nor key material).
 */
export class VaultError extends Error {
  override name = 'VaultError';
  readonly file: string;
  readonly kind: VaultErrorKind;
  /** The reason alone, without the file name (for diagnostics that show the file separately). */
  readonly reason: string;
  constructor(file: string, kind: VaultErrorKind, reason: string) {
    super(kind === 'wrong-password' ? `wrong vault password for ${file} (HMAC mismatch)` : `${file}: ${reason}`);
    this.file = file;
    this.kind = kind;
    this.reason = reason;
  }
}

export interface VaultEnvelope {
  /** "1.1" or "1.2". */
  version: string;
  /** Always "AES256" once parsed successfully. */
  cipher: string;
  /** Only in format 1.2. */
  vaultId?: string;
  /** The hex payload with the line breaks removed. */
  payloadHex: string;
}

/** True when the data starts with the vault header (what ansible's is_encrypted checks). */
export function isVaultText(data: string | Uint8Array): boolean {
  const head =
    typeof data === 'string'
      ? data.slice(0, VAULT_MAGIC.length)
      : Buffer.from(data.subarray(0, VAULT_MAGIC.length)).toString('latin1');
  return head === VAULT_MAGIC;
}

/** Splits a vault file into its header fields and the hex payload. */
export function parseVaultEnvelope(data: string | Uint8Array, file: string): VaultEnvelope {
  if (!isVaultText(data)) {
    throw new VaultError(file, 'not-a-vault', `not an ansible-vault file (it does not start with "${VAULT_MAGIC}")`);
  }
  const text = typeof data === 'string' ? data : Buffer.from(data).toString('latin1');
  const lines = text.split(/\r?\n/);
  const header = (lines[0] ?? '')
    .trim()
    .split(';')
    .map((p) => p.trim());
  const version = header[1] ?? '';
  const cipher = header[2] ?? '';
  if (version !== '1.1' && version !== '1.2') {
    const hint = version === '1.0' ? ' (the legacy format: rekey it with `ansible-vault rekey` first)' : '';
    throw new VaultError(
      file,
      'unsupported',
      `unsupported vault format version "${version}"; 1.1 and 1.2 are supported${hint}`,
    );
  }
  if (cipher !== 'AES256') {
    const hint = cipher === 'AES' ? ' (the legacy cipher: rekey it with `ansible-vault rekey` first)' : '';
    throw new VaultError(file, 'unsupported', `unsupported vault cipher "${cipher}"; only AES256 is supported${hint}`);
  }
  const vaultId = header[3];
  const payloadHex = lines
    .slice(1)
    .map((l) => l.trim())
    .join('');
  if (payloadHex.length === 0) throw new VaultError(file, 'malformed', 'vault file has a header but no content');
  const envelope: VaultEnvelope = { version, cipher, payloadHex };
  if (vaultId !== undefined && vaultId !== '') envelope.vaultId = vaultId;
  return envelope;
}

/** Decrypts vault text with a password; the HMAC is verified (in constant time) before decrypting. */
export function decryptVault(data: string | Uint8Array, password: string | Uint8Array, file: string): Buffer {
  const { payloadHex } = parseVaultEnvelope(data, file);
  const inner = unhex(payloadHex, file, 'payload').toString('latin1');
  const first = inner.indexOf('\n');
  const second = first < 0 ? -1 : inner.indexOf('\n', first + 1);
  if (first < 0 || second < 0)
    throw new VaultError(file, 'malformed', 'malformed vault payload (expected salt, HMAC and ciphertext)');
  const salt = unhex(inner.slice(0, first), file, 'salt');
  const expectedMac = unhex(inner.slice(first + 1, second), file, 'HMAC');
  const ciphertext = unhex(inner.slice(second + 1), file, 'ciphertext');

  const { aesKey, hmacKey, iv } = deriveKeys(password, salt);
  const actualMac = createHmac('sha256', hmacKey).update(ciphertext).digest();
  // timingSafeEqual needs equal lengths; a length mismatch reveals nothing about the key.
  if (expectedMac.length !== actualMac.length || !timingSafeEqual(expectedMac, actualMac)) {
    throw new VaultError(file, 'wrong-password', 'wrong vault password (HMAC mismatch)');
  }
  const decipher = createDecipheriv('aes-256-ctr', aesKey, iv);
  const padded = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  return unpad(padded, file);
}

export interface EncryptOptions {
  /** Writes format 1.2 with this vault id (as ansible does for any id other than "default"). */
  vaultId?: string;
  /** Fixed salt, for known-answer tests only; production always uses 32 fresh random bytes. */
  salt?: Uint8Array;
}

/** Encrypts to the exact bytes ansible-vault would write (header, 80-column lines, final newline). */
export function encryptVault(
  plaintext: string | Uint8Array,
  password: string | Uint8Array,
  opts: EncryptOptions = {},
): string {
  if (passwordBytes(password).length === 0) throw new Error('refusing to encrypt with an empty vault password');
  const salt = opts.salt ? Buffer.from(opts.salt) : randomBytes(SALT_BYTES);
  const { aesKey, hmacKey, iv } = deriveKeys(password, salt);
  const cipher = createCipheriv('aes-256-ctr', aesKey, iv);
  const data = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : Buffer.from(plaintext);
  const ciphertext = Buffer.concat([cipher.update(pad(data)), cipher.final()]);
  const mac = createHmac('sha256', hmacKey).update(ciphertext).digest();
  const inner = `${salt.toString('hex')}\n${mac.toString('hex')}\n${ciphertext.toString('hex')}`;
  const payload = Buffer.from(inner, 'latin1').toString('hex');
  const vaultId = opts.vaultId;
  const header = vaultId && vaultId !== 'default' ? `${VAULT_MAGIC};1.2;AES256;${vaultId}` : VAULT_HEADER;
  const lines = [header];
  for (let i = 0; i < payload.length; i += LINE_WIDTH) lines.push(payload.slice(i, i + LINE_WIDTH));
  return `${lines.join('\n')}\n`;
}

function passwordBytes(password: string | Uint8Array): Buffer {
  return typeof password === 'string' ? Buffer.from(password, 'utf8') : Buffer.from(password);
}

function deriveKeys(password: string | Uint8Array, salt: Buffer): { aesKey: Buffer; hmacKey: Buffer; iv: Buffer } {
  const derived = pbkdf2Sync(passwordBytes(password), salt, PBKDF2_ITERATIONS, 2 * KEY_BYTES + IV_BYTES, 'sha256');
  return {
    aesKey: derived.subarray(0, KEY_BYTES),
    hmacKey: derived.subarray(KEY_BYTES, 2 * KEY_BYTES),
    iv: derived.subarray(2 * KEY_BYTES, 2 * KEY_BYTES + IV_BYTES),
  };
}

function pad(data: Buffer): Buffer {
  const n = BLOCK - (data.length % BLOCK);
  return Buffer.concat([data, Buffer.alloc(n, n)]);
}

function unpad(data: Buffer, file: string): Buffer {
  const n = data.length > 0 ? (data[data.length - 1] ?? 0) : 0;
  let ok = data.length > 0 && data.length % BLOCK === 0 && n >= 1 && n <= BLOCK;
  for (let i = data.length - n; ok && i < data.length; i++) if (data[i] !== n) ok = false;
  if (!ok)
    throw new VaultError(
      file,
      'malformed',
      'invalid padding after decryption (the file was not written by ansible-vault or kanka-infra)',
    );
  return data.subarray(0, data.length - n);
}

function unhex(hex: string, file: string, what: string): Buffer {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new VaultError(
      file,
      'malformed',
      `malformed vault ${what}: not hexadecimal (the file is damaged or was edited by hand)`,
    );
  }
  return Buffer.from(hex, 'hex');
}
