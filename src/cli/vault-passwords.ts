import { resolve } from 'node:path';
import { ConfigError } from '../diagnostics/diagnostic.js';
import { UsageError } from '../diagnostics/usage-error.js';
import { PASSWORD_HINT, resolveVaultPassword } from '../secrets/load-secrets.js';
import { readPasswordSource } from '../secrets/password-source.js';
import { DEFAULT_VAULT_ID, parseVaultId, type VaultIdSpec, type VaultSecret } from '../secrets/vault-id.js';
import { askHidden } from './ask-hidden.js';
import type { Io } from './io.js';

/** Where the vault passwords come from, as the options and the environment say. */
export interface VaultPasswordOptions {
  /** `--vault-id label@source`, in the order given. */
  vaultIds?: readonly string[];
  passwordFile?: string;
  env: NodeJS.ProcessEnv;
}

/**
 * The passwords to try, labelled: each --vault-id in order, then --vault-password-file (label
 * "default", as in ansible-vault). With neither, KANKA_VAULT_PASSWORD_FILE or KANKA_VAULT_PASSWORD.
 * An empty list means no password was given (the caller says what needs one).
 */
export async function vaultSecrets(opts: VaultPasswordOptions, io: Io): Promise<VaultSecret[]> {
  const specs = (opts.vaultIds ?? []).map(parseVaultId);
  const secrets: VaultSecret[] = [];
  for (const spec of specs) secrets.push({ label: spec.label, password: await passwordOf(spec, io, 'once') });
  if (opts.passwordFile !== undefined && opts.passwordFile !== '') {
    const password = resolveVaultPassword({ passwordFile: opts.passwordFile, env: {}, cwd: io.cwd });
    if (password !== undefined) secrets.push({ label: DEFAULT_VAULT_ID, password });
  }
  if (secrets.length > 0) return secrets;
  const fromEnv = resolveVaultPassword({ env: opts.env, cwd: io.cwd });
  return fromEnv === undefined ? [] : [{ label: DEFAULT_VAULT_ID, password: fromEnv }];
}

/**
 * The --vault-id passwords of the project commands (plan, apply, ...): files and scripts only, since
 * the project is loaded before anything can be asked; "prompt" is refused with what to do instead.
 */
export function fileVaultSecrets(vaultIds: readonly string[], cwd: string): VaultSecret[] {
  return vaultIds.map((text) => {
    const spec = parseVaultId(text);
    if (spec.file === undefined)
      throw new UsageError(
        `--vault-id ${text}: this command reads passwords from files or scripts only; give ${spec.label}@<file>, or a script that asks (it may use the terminal)`,
      );
    const password = readPasswordSource({
      path: resolve(cwd, spec.file),
      shown: spec.file,
      from: `--vault-id ${text}`,
      label: spec.label,
    });
    return { label: spec.label, password };
  });
}

/** Like vaultSecrets, but none is a ConfigError about `file`. */
export async function requiredVaultSecrets(opts: VaultPasswordOptions, io: Io, file: string): Promise<VaultSecret[]> {
  const secrets = await vaultSecrets(opts, io);
  if (secrets.length === 0)
    throw new ConfigError([{ file, message: 'no vault password given', hint: `${PASSWORD_HINT}, or --vault-id` }]);
  return secrets;
}

/**
 * The password to encrypt with: the one labelled --encrypt-vault-id, else the only one given.
 * Several and no choice is a UsageError, as in ansible-vault.
 */
export function encryptingSecret(secrets: readonly VaultSecret[], encryptVaultId: string | undefined): VaultSecret {
  if (encryptVaultId !== undefined) {
    const chosen = secrets.find((s) => s.label === encryptVaultId);
    if (!chosen)
      throw new UsageError(
        `--encrypt-vault-id ${encryptVaultId}: no password with that label was given (labels: ${labels(secrets)})`,
      );
    return chosen;
  }
  const [only, ...more] = secrets;
  if (only === undefined) throw new UsageError('no vault password given');
  if (more.length > 0)
    throw new UsageError(
      `several vault passwords were given (labels: ${labels(secrets)}): say which one encrypts with --encrypt-vault-id <label>`,
    );
  return only;
}

export interface NewPasswordOptions {
  newVaultId?: string;
  newPasswordFile?: string;
}

/**
 * The new password for `vault rekey`: --new-vault-id or --new-vault-password-file, else asked twice
 * on a terminal. Its label is the one --new-vault-id names explicitly (label@source), else the
 * file's current one, so a rekeyed file keeps its vault ID.
 */
export async function newVaultSecret(
  opts: NewPasswordOptions,
  fileLabel: string | undefined,
  io: Io,
): Promise<VaultSecret> {
  if (opts.newVaultId !== undefined && opts.newPasswordFile !== undefined)
    throw new UsageError('give either --new-vault-id or --new-vault-password-file, not both');
  const keep = fileLabel ?? DEFAULT_VAULT_ID;
  if (opts.newVaultId !== undefined) {
    const spec = parseVaultId(opts.newVaultId);
    const label = opts.newVaultId.includes('@') ? spec.label : keep;
    return { label, password: await passwordOf({ ...spec, label }, io, 'twice', '--new-vault-id') };
  }
  if (opts.newPasswordFile !== undefined) {
    const password = readPasswordSource({
      path: resolve(io.cwd, opts.newPasswordFile),
      shown: opts.newPasswordFile,
      from: '--new-vault-password-file',
      label: keep,
    });
    return { label: keep, password };
  }
  return { label: keep, password: await ask(io, keep, 'twice', 'the new vault password') };
}

async function passwordOf(spec: VaultIdSpec, io: Io, times: 'once' | 'twice', option = '--vault-id'): Promise<string> {
  if (spec.file === undefined) return ask(io, spec.label, times, `${option} ${spec.text}`);
  return readPasswordSource({
    path: resolve(io.cwd, spec.file),
    shown: spec.file,
    from: `${option} ${spec.text}`,
    label: spec.label,
  });
}

/** Asks on the terminal (hidden); `twice` asks again to confirm, as for a new password. */
async function ask(io: Io, label: string, times: 'once' | 'twice', what: string): Promise<string> {
  if (!io.stdinIsTTY)
    throw new UsageError(
      `${what} must be typed on a terminal, and this is not one: give a password file instead (--vault-id ${label}@<file>)`,
    );
  const name = times === 'twice' ? 'New vault password' : 'Vault password';
  const shown = label === DEFAULT_VAULT_ID ? name : `${name} (${label})`;
  const first = await askHidden(io, `${shown}: `);
  if (first === undefined || first === '') throw new UsageError(`no password entered for ${what}: cancelled`);
  if (times === 'once') return first;
  const again = await askHidden(io, `Confirm ${shown.charAt(0).toLowerCase()}${shown.slice(1)}: `);
  if (again !== first) throw new UsageError('the two passwords typed differ: nothing was changed');
  return first;
}

function labels(secrets: readonly VaultSecret[]): string {
  return [...new Set(secrets.map((s) => s.label))].join(', ') || '(none)';
}
