import { UsageError } from '../../diagnostics/usage-error.js';
import { encryptVault } from '../../secrets/vault-format.js';
import type { VaultSecret } from '../../secrets/vault-id.js';
import { askHidden } from '../ask-hidden.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { write, type Io } from '../io.js';

export interface EncryptStringOptions {
  /** The YAML key printed before the value (`--name`). */
  name?: string;
  /** The key for a value read from stdin (`--stdin-name`, as in ansible-vault). */
  stdinName?: string;
}

// ansible-vault's indentation of the block under the key.
const INDENT = ' '.repeat(10);
// A key that needs no YAML quoting, so the printed block pastes as is.
const PLAIN_KEY = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/**
 * `vault encrypt-string`: prints the value encrypted as a `!vault |` block, like
 * `ansible-vault encrypt_string`. The value comes from the argument, else is asked (hidden) on a
 * terminal, else is all of stdin, kept byte for byte as ansible-vault does. Only the ciphertext is
 * printed.
 */
export async function encryptString(
  value: string | undefined,
  opts: EncryptStringOptions,
  secret: () => Promise<VaultSecret>,
  io: Io,
): Promise<ExitCode> {
  if (value !== undefined && opts.stdinName !== undefined)
    throw new UsageError('--stdin-name names a value read from stdin; with a value argument use --name');
  const name = opts.name ?? opts.stdinName;
  if (name !== undefined && !PLAIN_KEY.test(name))
    throw new UsageError(`--name "${name}": use letters, digits, "_", "." and "-" (a plain YAML key)`);
  const key = await secret();
  const plaintext = value ?? (await readValue(io));
  if (plaintext === '') throw new UsageError('the value to encrypt is empty: nothing was encrypted');
  const vaultText = encryptVault(plaintext, key.password, { vaultId: key.label });
  const body = vaultText
    .trimEnd()
    .split('\n')
    .map((l) => `${INDENT}${l}`)
    .join('\n');
  io.stdout.write(`${name === undefined ? '' : `${name}: `}!vault |\n${body}\n`);
  write(io.stderr, 'Encryption successful');
  return EXIT.OK;
}

async function readValue(io: Io): Promise<string> {
  if (io.stdinIsTTY) {
    const typed = await askHidden(io, 'Value to encrypt (not shown): ');
    if (typed === undefined) throw new UsageError('no value entered: cancelled');
    return typed;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}
