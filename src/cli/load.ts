import { loadProject } from '../config/load-project.js';
import type { Project } from '../config/model.js';
import { compile } from '../engine/compile.js';
import type { HostProgram } from '../engine/program.js';
import type { Io } from './io.js';
import type { ProjectOptions } from './options.js';
import { ConfigError } from '../config/diagnostics.js';
import { loadSecrets, PASSWORD_HINT, resolveVaultPassword } from '../secrets/load-secrets.js';

/** Loads, validates and compiles: everything that must succeed before a host is contacted. */
export function loadAndCompile(env: string, opts: ProjectOptions, io: Io): { project: Project; programs: HostProgram[] } {
  const { project, secrets } = loadWithSecrets(env, opts, io);
  return { project, programs: compileWith(project, secrets, opts) };
}

/** The project and its decrypted secrets (output masking is set up on the way). */
export function loadWithSecrets(env: string, opts: ProjectOptions, io: Io): { project: Project; secrets: Record<string, unknown> } {
  const project = loadProject({
    env,
    projectDir: opts.project ?? io.cwd,
    ...(opts.playbook ? { playbook: opts.playbook } : {}),
  });
  const secrets = project.inventory.secretsFile ? openSecrets(project.inventory.secretsFile, project.inventory.vaultPasswordFile, opts, io) : {};
  return { project, secrets };
}

export function compileWith(project: Project, secrets: Record<string, unknown>, opts: Pick<ProjectOptions, 'limit' | 'tags'>): HostProgram[] {
  return compile(project, {
    ...(opts.limit ? { limit: opts.limit } : {}),
    ...(opts.tags ? { tags: opts.tags } : {}),
    secrets,
  });
}

/** Decrypts the inventory's secrets and, before anything is printed, masks their values in all output. */
function openSecrets(file: string, inventoryPasswordFile: string | undefined, opts: ProjectOptions, io: Io): Record<string, unknown> {
  const fromEnvOrOption = resolveVaultPassword({ ...(opts.vaultPasswordFile ? { passwordFile: opts.vaultPasswordFile } : {}), cwd: io.cwd });
  const password = fromEnvOrOption ?? (inventoryPasswordFile ? resolveVaultPassword({ passwordFile: inventoryPasswordFile, env: {} }) : undefined);
  if (password === undefined) {
    throw new ConfigError([{ file, message: 'the inventory has encrypted secrets but no password was given', hint: PASSWORD_HINT }]);
  }
  const loaded = loadSecrets(file, password);
  io.setRedactor?.(loaded.redactor);
  // Kept as `Secret`s: templates and arguments get the value when they read it, and what they
  // render is marked sensitive (template/strict-context.ts).
  return { ...loaded.values };
}
