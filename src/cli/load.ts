import { loadProject } from '../config/load-project.js';
import type { Project } from '../config/model.js';
import { compile } from '../engine/compile.js';
import type { HostProgram } from '../engine/program.js';
import type { Io } from './io.js';
import type { ProjectOptions } from './options.js';
import { ConfigError } from '../diagnostics/diagnostic.js';
import {
  allSecrets,
  decryptWithSecrets,
  loadSecrets,
  PASSWORD_HINT,
  type SecretValues,
  resolveVaultPassword,
} from '../secrets/load-secrets.js';
import { findInlineVaults, type InlineVault } from '../secrets/inline-vault.js';
import { Redactor } from '../secrets/redact.js';
import { Secret, secretsWithin } from '../secrets/secret.js';
import { readPasswordSource } from '../secrets/password-source.js';
import { DEFAULT_VAULT_ID, type VaultSecret } from '../secrets/vault-id.js';
import { fileVaultSecrets } from './vault-passwords.js';
import { checkVaultEnvelope, standInSecrets, standInValue } from '../secrets/stand-in.js';
import { readExtraVars } from './extra-vars.js';
import { vaultBlocksIn } from '../config/vault-blocks.js';
import { pathKind } from '../config/path-kind.js';
import { loadInventory } from '../config/load-inventory.js';
import { resolveInventoryFile } from '../config/resolve-env.js';
import type { Inventory } from '../config/model.js';

/** Whether a command can do without the vault password (validate) or needs the real secrets. */
export interface SecretsNeed {
  /** Without a password, secrets become opaque stand-ins (validate only: nothing reaches a host). */
  passwordOptional?: boolean;
}

/** Loaded project and secrets; `secretsChecked` is false when secret names could not be checked (no password). */
export interface Loaded {
  project: Project;
  secrets: Record<string, unknown>;
  secretsChecked: boolean;
}

/** Loads, validates and compiles: everything that must succeed before a host is contacted. */
export function loadAndCompile(
  env: string,
  opts: ProjectOptions,
  io: Io,
  need: SecretsNeed = {},
): { project: Project; programs: HostProgram[]; secretsChecked: boolean } {
  const { project, secrets, secretsChecked } = loadWithSecrets(env, opts, io, need);
  return { project, programs: compileWith(project, secrets, opts), secretsChecked };
}

/** The project and its decrypted secrets (output masking is set up on the way). */
export function loadWithSecrets(env: string, opts: ProjectOptions, io: Io, need: SecretsNeed = {}): Loaded {
  // Read before the project: a bad -e is a usage error whatever else is wrong.
  const extraVars = opts.extraVarValues ?? readExtraVars(opts.extraVars ?? [], io.cwd);
  let project = loadProject({
    env,
    projectDir: opts.project ?? io.cwd,
    ...(opts.playbook ? { playbook: opts.playbook } : {}),
    extraVars,
    ...(opts.newHost !== undefined ? { newHosts: [opts.newHost] } : {}),
  });
  const file = project.inventory.secretsFile;
  const encryptedVars = (project.inventory.varsFiles ?? []).filter((f) => f.encrypted).map((f) => f.file);
  if (!file && encryptedVars.length === 0 && findInlineVaults(project).length === 0)
    return { project, secrets: {}, secretsChecked: true };
  const password = findPassword(project.inventory.vaultPasswordFile, opts, io, need);
  if (password === undefined) {
    const inline = findInlineVaults(project);
    // Stand-ins answer any secrets.<name> and inline !vault value; the names inside an encrypted
    // vars file cannot be guessed, so those need the password even for validate.
    if (!need.passwordOptional || encryptedVars.length > 0)
      throw passwordMissing({
        ...(file && !need.passwordOptional ? { secretsFile: file } : {}),
        encryptedVars,
        ...(!file && !need.passwordOptional && inline[0] ? { inline: inline[0].vault } : {}),
      });
    if (file) checkVaultEnvelope(file);
    // validate without the password: the names are known, the values are stand-ins.
    for (const slot of inline) slot.replace(new Secret(standInValue(slot.key)));
    return { project, secrets: file ? standInSecrets() : {}, secretsChecked: !file };
  }
  if (encryptedVars.length > 0)
    project = {
      ...project,
      inventory: loadInventory(project.inventory.file, {
        vaultPassword: password,
        ...(opts.newHost !== undefined ? { newHosts: [opts.newHost] } : {}),
      }),
    };
  // After the inventory is final: the slots are the objects the compiler will read.
  const loaded = openVaultValues(project, project.inventory, password, io);
  // Kept as `Secret`s: templates and arguments get the value when they read it, and what they
  // render is marked sensitive (template/strict-context.ts).
  return { project, secrets: loaded ? { ...loaded } : {}, secretsChecked: true };
}

/**
 * Opens every vault value under `root` (inline !vault values, the inventory's secrets file) and,
 * before anything is printed, masks all of them (encrypted vars files' too) in every output.
 */
function openVaultValues(
  root: unknown,
  inventory: Inventory,
  password: readonly VaultSecret[],
  io: Io,
): SecretValues | undefined {
  for (const slot of findInlineVaults(root)) slot.replace(new Secret(openInlineVault(slot.vault, password)));
  const file = inventory.secretsFile;
  const loaded = file ? loadSecrets(file, password).values : undefined;
  io.setRedactor?.(new Redactor([...(loaded ? allSecrets(loaded) : []), ...secretsWithin(root)]));
  return loaded;
}

/** Each thing that needs the vault password when none was given, named where it is, with the fix. */
function passwordMissing(
  places: { secretsFile?: string; encryptedVars: readonly string[]; inline?: InlineVault },
  why = '',
): ConfigError {
  const problem = (where: { file: string; line?: number }, what: string) => ({
    ...where,
    message: `${what} but no password was given${why}`,
    hint: PASSWORD_HINT,
  });
  return new ConfigError([
    ...(places.secretsFile ? [problem({ file: places.secretsFile }, 'the inventory has encrypted secrets')] : []),
    ...places.encryptedVars.map((f) => problem({ file: f }, 'this vars file is encrypted')),
    ...(places.inline ? [problem(inlineWhere(places.inline), 'the project has !vault values')] : []),
  ]);
}

function inlineWhere(vault: InlineVault): { file: string; line?: number } {
  return vault.line === undefined ? { file: vault.file } : { file: vault.file, line: vault.line };
}

/** Decrypts one `!vault |` value; a problem names its file and line, never the content. */
function openInlineVault(vault: InlineVault, secrets: readonly VaultSecret[]): string {
  let plaintext: Buffer;
  try {
    plaintext = decryptWithSecrets(vault.text, secrets, vault.file).plaintext;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new ConfigError(
      err.diagnostics.map((d) => ({ ...d, ...inlineWhere(vault), message: `!vault value: ${d.message}` })),
    );
  }
  return plaintext.toString('utf8');
}

/**
 * The inventory alone (no playbook or roles: `run` must work while a role is broken), with its
 * secrets opened only so that their values are masked in everything printed.
 */
export function loadInventoryMasked(
  env: string,
  opts: Pick<ProjectOptions, 'project' | 'vaultPasswordFile' | 'vaultId'>,
  io: Io,
): Inventory {
  const inventoryFile = resolveInventoryFile(env, opts.project ?? io.cwd);
  let inventory = loadInventory(inventoryFile);
  const file = inventory.secretsFile;
  const encryptedVars = (inventory.varsFiles ?? []).filter((f) => f.encrypted).map((f) => f.file);
  // The roles' and playbooks' !vault values too: a command may print what a task wrote from them.
  const blocks = Object.fromEntries(vaultBlocksIn(opts.project ?? io.cwd).map((b, i) => [String(i), b]));
  const inline = [...findInlineVaults(inventory), ...findInlineVaults(blocks)];
  if (!file && encryptedVars.length === 0 && inline.length === 0) return inventory;
  const password = findPassword(inventory.vaultPasswordFile, opts, io, {});
  if (password === undefined)
    throw passwordMissing(
      {
        ...(file ? { secretsFile: file } : {}),
        encryptedVars,
        ...(!file && inline[0] ? { inline: inline[0].vault } : {}),
      },
      ' (run needs them to mask their values in what the command prints)',
    );
  if (encryptedVars.length > 0) inventory = loadInventory(inventoryFile, { vaultPassword: password });
  openVaultValues({ inventory, blocks }, inventory, password, io);
  return inventory;
}

/** The one-line note validate prints when it ran without the vault password. */
export const SECRETS_NOT_CHECKED_NOTE = `secret names (secrets.*) were not checked: no vault password was given (to check them, ${PASSWORD_HINT})`;

export function compileWith(
  project: Project,
  secrets: Record<string, unknown>,
  opts: Pick<ProjectOptions, 'limit' | 'tags' | 'skipTags' | 'startAtTask'>,
): HostProgram[] {
  return compile(project, {
    ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
    ...(opts.tags !== undefined ? { tags: opts.tags } : {}),
    ...(opts.skipTags !== undefined ? { skipTags: opts.skipTags } : {}),
    ...(opts.startAtTask !== undefined ? { startAtTask: opts.startAtTask } : {}),
    secrets,
  });
}

/**
 * The vault passwords: each --vault-id and --vault-password-file, else KANKA_VAULT_PASSWORD(_FILE),
 * else the inventory's vault_password_file. When the password is optional, that file being absent
 * (it is kept out of the repository: a fresh clone has none) means no password rather than an error.
 */
function findPassword(
  inventoryPasswordFile: string | undefined,
  opts: Pick<ProjectOptions, 'vaultPasswordFile' | 'vaultId'>,
  io: Io,
  need: SecretsNeed,
): VaultSecret[] | undefined {
  const given = fileVaultSecrets(opts.vaultId ?? [], io.cwd);
  const fromOption = resolveVaultPassword({
    ...(opts.vaultPasswordFile ? { passwordFile: opts.vaultPasswordFile } : {}),
    ...(given.length > 0 ? { env: {} } : {}),
    cwd: io.cwd,
  });
  if (fromOption !== undefined) given.push({ label: DEFAULT_VAULT_ID, password: fromOption });
  if (given.length > 0 || !inventoryPasswordFile) return given.length > 0 ? given : undefined;
  if (need.passwordOptional && pathKind(inventoryPasswordFile, 'the vault password file') === 'missing')
    return undefined;
  // Read, never run: a password script named by the project (not the operator) is refused.
  const password = readPasswordSource({
    path: inventoryPasswordFile,
    shown: inventoryPasswordFile,
    from: 'vault_password_file in the inventory',
    allowScript: false,
  });
  return [{ label: DEFAULT_VAULT_ID, password }];
}
