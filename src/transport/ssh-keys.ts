import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ParsedKey } from 'ssh2';
import { describeFsError } from '../config/diagnostics.js';

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

type Ssh2 = typeof import('ssh2');
let ssh2: Ssh2 | undefined;

/**
 * ssh2 is loaded when a key is first parsed, not at start-up: it costs about a tenth of a second,
 * and `validate` of a project whose key is not on this machine never needs it.
 */
function parseKey(data: Buffer, passphrase?: string): ReturnType<Ssh2['utils']['parseKey']> {
  ssh2 ??= createRequire(import.meta.url)('ssh2') as Ssh2;
  return passphrase === undefined ? ssh2.utils.parseKey(data) : ssh2.utils.parseKey(data, passphrase);
}

const CONVERT_HINT =
  'use an OpenSSH or PEM private key (ed25519, RSA or ECDSA); `ssh-keygen -p -f FILE` rewrites one in OpenSSH format';

/**
 * The OpenSSH public key line (`ssh-ed25519 AAAA...`, no comment) of a private key given as text
 * (a vault value), so the vault holds one value and the public half is derived where needed.
 * The error never quotes the key.
 */
export function publicKeyLine(privateKey: string): string {
  const parsed = parseKey(Buffer.from(privateKey));
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (key === undefined || key instanceof Error)
    throw new Error(`not an unencrypted private key this tool can read (${key?.message ?? 'empty'}); ${CONVERT_HINT}`);
  if (!key.isPrivateKey()) throw new Error('this is a public key: give the private key');
  return `${key.type} ${key.getPublicSSH().toString('base64')}`;
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
