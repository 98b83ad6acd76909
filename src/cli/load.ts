import { loadProject } from '../config/load-project.js';
import type { Project } from '../config/model.js';
import { compile } from '../engine/compile.js';
import type { HostProgram } from '../engine/program.js';
import type { Io } from './io.js';
import type { ProjectOptions } from './options.js';
import { ConfigError } from '../diagnostics/diagnostic.js';
import { loadSecrets, PASSWORD_HINT, resolveVaultPassword } from '../secrets/load-secrets.js';
import { Redactor } from '../secrets/redact.js';
import { Secret } from '../secrets/secret.js';
import { loadInventory } from '../config/load-inventory.js';
import { readExtraVars } from './extra-vars.js';
import { checkVaultEnvelope, standInSecrets } from '../secrets/stand-in.js';
import { pathKind } from '../config/path-kind.js';

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
  if (!file && encryptedVars.length === 0) return { project, secrets: {}, secretsChecked: true };
  const password = findPassword(project.inventory.vaultPasswordFile, opts, io, need);
  if (password === undefined) {
    // Stand-ins answer any secrets.<name>; the names inside an encrypted vars file cannot be guessed.
    if (!need.passwordOptional || encryptedVars.length > 0)
      throw new ConfigError(
        [...(file && !need.passwordOptional ? [file] : []), ...encryptedVars].map((f) => ({
          file: f,
          message: `${f === file ? 'the inventory has encrypted secrets' : 'this vars file is encrypted'} but no password was given`,
          hint: PASSWORD_HINT,
        })),
      );
    if (file) checkVaultEnvelope(file);
    return { project, secrets: standInSecrets(), secretsChecked: false };
  }
  if (encryptedVars.length > 0)
    project = {
      ...project,
      inventory: loadInventory(project.inventory.file, {
        vaultPassword: password,
        ...(opts.newHost !== undefined ? { newHosts: [opts.newHost] } : {}),
      }),
    };
  const secrets = file ? loadSecrets(file, password).values : {};
  // Before anything is printed: every value from the vault is masked in all output.
  io.setRedactor?.(new Redactor([...secretsIn(secrets), ...secretsIn(encryptedVarsOf(project))]));
  // Kept as `Secret`s: templates and arguments get the value when they read it, and what they
  // render is marked sensitive (template/strict-context.ts).
  return { project, secrets: { ...secrets }, secretsChecked: true };
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
 * The vault password: --vault-password-file or KANKA_VAULT_PASSWORD(_FILE) first, else the
 * inventory's vault_password_file. When the password is optional, that file being absent (it is
 * kept out of the repository: a fresh clone has none) means no password rather than an error.
 */
function findPassword(
  inventoryPasswordFile: string | undefined,
  opts: ProjectOptions,
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

function encryptedVarsOf(project: Project): unknown[] {
  return (project.inventory.varsFiles ?? []).filter((f) => f.encrypted).map((f) => f.vars);
}

function secretsIn(value: unknown): Secret[] {
  if (value instanceof Secret) return [value];
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(secretsIn);
  return [];
}
