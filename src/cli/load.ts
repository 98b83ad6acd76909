import { loadProject } from '../config/load-project.js';
import type { Project } from '../config/model.js';
import { compile } from '../engine/compile.js';
import type { HostProgram } from '../engine/program.js';
import type { Io } from './io.js';
import type { ProjectOptions } from './options.js';
import { ConfigError } from '../diagnostics/diagnostic.js';
import { loadSecrets, PASSWORD_HINT, resolveVaultPassword } from '../secrets/load-secrets.js';
import { checkVaultEnvelope, standInSecrets } from '../secrets/stand-in.js';
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
  const project = loadProject({
    env,
    projectDir: opts.project ?? io.cwd,
    ...(opts.playbook ? { playbook: opts.playbook } : {}),
  });
  const file = project.inventory.secretsFile;
  if (!file) return { project, secrets: {}, secretsChecked: true };
  const password = findPassword(project.inventory.vaultPasswordFile, opts, io, need);
  if (password === undefined) {
    if (!need.passwordOptional)
      throw new ConfigError([
        { file, message: 'the inventory has encrypted secrets but no password was given', hint: PASSWORD_HINT },
      ]);
    checkVaultEnvelope(file);
    return { project, secrets: standInSecrets(), secretsChecked: false };
  }
  return { project, secrets: openSecrets(file, password, io), secretsChecked: true };
}

/**
 * The inventory alone (no playbook or roles: `run` must work while a role is broken), with its
 * secrets opened only so that their values are masked in everything printed.
 */
export function loadInventoryMasked(
  env: string,
  opts: Pick<ProjectOptions, 'project' | 'vaultPasswordFile'>,
  io: Io,
): Inventory {
  const inventory = loadInventory(resolveInventoryFile(env, opts.project ?? io.cwd));
  const file = inventory.secretsFile;
  if (!file) return inventory;
  const password = findPassword(inventory.vaultPasswordFile, opts, io, {});
  if (password === undefined)
    throw new ConfigError([
      {
        file,
        message:
          'the inventory has encrypted secrets but no password was given (run needs them to mask their values in what the command prints)',
        hint: PASSWORD_HINT,
      },
    ]);
  openSecrets(file, password, io);
  return inventory;
}

/** The one-line note validate prints when it ran without the vault password. */
export const SECRETS_NOT_CHECKED_NOTE = `secret names (secrets.*) were not checked: no vault password was given (to check them, ${PASSWORD_HINT})`;

export function compileWith(
  project: Project,
  secrets: Record<string, unknown>,
  opts: Pick<ProjectOptions, 'limit' | 'tags'>,
): HostProgram[] {
  return compile(project, {
    ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
    ...(opts.tags !== undefined ? { tags: opts.tags } : {}),
    secrets,
  });
}

/**
 * The vault password: --vault-password-file or KANKA_VAULT_PASSWORD(_FILE) first, else the
 * inventory's vault_password_file. When the password is optional, that file being absent (it is
 * kept out of the repository: a fresh clone has none) means no password rather than an error.
 */
function findPassword(
  inventoryPasswordFile: string | undefined,
  opts: Pick<ProjectOptions, 'vaultPasswordFile'>,
  io: Io,
  need: SecretsNeed,
): string | undefined {
  const fromEnvOrOption = resolveVaultPassword({
    ...(opts.vaultPasswordFile ? { passwordFile: opts.vaultPasswordFile } : {}),
    cwd: io.cwd,
  });
  if (fromEnvOrOption !== undefined || !inventoryPasswordFile) return fromEnvOrOption;
  if (need.passwordOptional && pathKind(inventoryPasswordFile, 'the vault password file') === 'missing')
    return undefined;
  return resolveVaultPassword({ passwordFile: inventoryPasswordFile, env: {} });
}

/** Decrypts the inventory's secrets and, before anything is printed, masks their values in all output. */
function openSecrets(file: string, password: string, io: Io): Record<string, unknown> {
  const loaded = loadSecrets(file, password);
  io.setRedactor?.(loaded.redactor);
  // Kept as `Secret`s: templates and arguments get the value when they read it, and what they
  // render is marked sensitive (template/strict-context.ts).
  return { ...loaded.values };
}
