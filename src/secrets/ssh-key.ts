import { createRequire } from 'node:module';
import type * as Ssh2 from 'ssh2';
import type { ParsedKey } from 'ssh2';

let ssh2: typeof Ssh2 | undefined;

/**
 * Parses an SSH key with ssh2, loaded on first use, not at start-up: it costs noticeable start-up
 * time, and `validate` of a project whose key is not on this machine never needs it.
 */
export function parseKey(data: Buffer, passphrase?: string): ParsedKey | ParsedKey[] | Error {
  ssh2 ??= createRequire(import.meta.url)('ssh2') as typeof Ssh2;
  return passphrase === undefined ? ssh2.utils.parseKey(data) : ssh2.utils.parseKey(data, passphrase);
}

export const CONVERT_HINT =
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
