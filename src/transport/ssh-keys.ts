import { readFileSync, statSync } from 'node:fs';
import type { ParsedKey } from 'ssh2';
import { describeFsError } from '../diagnostics/diagnostic.js';
import { CONVERT_HINT, parseKey } from '../secrets/ssh-key.js';

/** A private key file as read from disk: usable now, or waiting for its passphrase. */
export type KeyFile =
  { file: string; encrypted: false; key: ParsedKey } | { file: string; encrypted: true; data: Buffer };

/** A key file that cannot be used: what is wrong with it and what would fix it (never the passphrase). */
export class KeyFileError extends Error {
  override name = 'KeyFileError';
  constructor(
    readonly file: string,
    readonly problem: string,
    readonly hint: string,
  ) {
    super(`SSH key ${file}: ${problem}`);
  }
}

/** Reads and parses a private key; an encrypted one is only recognised here (see unlockKey). */
export function readKeyFile(file: string): KeyFile {
  let data: Buffer;
  try {
    if (statSync(file).isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    data = readFileSync(file);
  } catch (err) {
    throw new KeyFileError(
      file,
      `cannot read it: ${describeFsError(err)}`,
      'point ssh.key_file at your private key (absolute, ~/..., or relative to the inventory file) and check its permissions',
    );
  }
  if (isEncryptedKey(data)) return { file, encrypted: true, data };
  return { file, encrypted: false, key: usablePrivateKey(file, parseKey(data)) };
}

/** Decrypts an encrypted key with its passphrase; a wrong one is a KeyFileError. */
export function unlockKey(keyFile: { file: string; data: Buffer }, passphrase: string): ParsedKey {
  const parsed = parseKey(keyFile.data, passphrase);
  if (parsed instanceof Error && /passphrase/i.test(parsed.message)) {
    throw new KeyFileError(
      keyFile.file,
      'wrong passphrase',
      `check it: \`ssh-keygen -y -f ${keyFile.file}\` asks for it and shows the public key when it is right`,
    );
  }
  return usablePrivateKey(keyFile.file, parsed);
}

function usablePrivateKey(file: string, parsed: ParsedKey | ParsedKey[] | Error): ParsedKey {
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (key === undefined || key instanceof Error) {
    throw new KeyFileError(file, `not a private key this tool can read (${key?.message ?? 'empty'})`, CONVERT_HINT);
  }
  if (!key.isPrivateKey())
    throw new KeyFileError(file, 'this is a public key', 'ssh.key_file names the private key (the file without .pub)');
  return key;
}

const PEM_ENCRYPTED = /^Proc-Type:\s*4,ENCRYPTED/m;
const PPK_ENCRYPTED = /^PuTTY-User-Key-File-\d+:[^\n]*\nEncryption:[ \t]*(?!none\b)\S/m;
const OPENSSH_BLOCK = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/;
const OPENSSH_MAGIC = Buffer.from('openssh-key-v1\0', 'latin1');

/** Whether a key needs a passphrase, read from its format (a PEM or PuTTY header, or the OpenSSH cipher name). */
export function isEncryptedKey(data: Buffer): boolean {
  const text = data.toString('latin1');
  if (PEM_ENCRYPTED.test(text) || PPK_ENCRYPTED.test(text) || text.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----'))
    return true;
  const block = OPENSSH_BLOCK.exec(text)?.[1];
  if (block === undefined) return false;
  const raw = Buffer.from(block.replace(/\s+/g, ''), 'base64');
  if (!raw.subarray(0, OPENSSH_MAGIC.length).equals(OPENSSH_MAGIC) || raw.length < OPENSSH_MAGIC.length + 4)
    return false;
  const len = raw.readUInt32BE(OPENSSH_MAGIC.length);
  const start = OPENSSH_MAGIC.length + 4;
  return raw.subarray(start, start + len).toString('latin1') !== 'none';
}
