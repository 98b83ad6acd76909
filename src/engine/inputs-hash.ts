import { createHash, createHmac } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Project } from '../config/model.js';
import { Secret, secretsWithin } from '../secrets/secret.js';

/**
 * The key that approval fingerprints and the inputs hash are made with: derived from the secrets
 * (so a saved plan's hashes cannot be used to guess a short secret offline), a constant without.
 */
export function approvalKey(secrets: Record<string, unknown>, project?: Project): Buffer {
  const h = createHash('sha256').update('kanka-infra approval v1\n');
  const walk = (v: unknown, path: string): void => {
    if (v instanceof Secret) h.update(`${path}=${v.reveal().length}:${v.reveal()}\n`);
    else if (v !== null && typeof v === 'object')
      for (const k of Object.keys(v).sort()) walk((v as Record<string, unknown>)[k], `${path}.${k}`);
  };
  walk(secrets, 'secrets');
  // Encrypted group_vars/host_vars files and inline !vault values hold secrets too.
  for (const s of secretsWithin(project)) h.update(`project=${s.reveal().length}:${s.reveal()}\n`);
  return h.digest();
}

function filesUnder(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return [];
  }
  return names.flatMap((n) => {
    const p = join(dir, n);
    try {
      return statSync(p).isDirectory() ? filesUnder(p) : [p];
    } catch {
      return [];
    }
  });
}

/**
 * A hash of everything a plan was computed from on this machine: the inventory, its vars files,
 * the secrets file, the playbook, every file of the roles it uses and the -e variables. Apply of a saved plan refuses when it differs:
 * the configuration changed since the plan was reviewed.
 */
export function inputsHash(project: Project, key: Buffer): string {
  const files = [
    project.inventory.file,
    ...(project.inventory.secretsFile ? [project.inventory.secretsFile] : []),
    ...(project.inventory.varsFiles ?? []).map((f) => f.file),
    project.playbookFile,
    ...[...project.roles.values()].flatMap((r) => filesUnder(r.dir)),
  ];
  const h = createHmac('sha256', key);
  for (const f of files) {
    let content: Buffer;
    try {
      content = readFileSync(f);
    } catch {
      content = Buffer.from('(unreadable)');
    }
    h.update(`${f}\n${content.length}\n`).update(content);
  }
  // -e values are inputs too: the same plan with another -e is another plan.
  h.update(`extra vars\n${JSON.stringify(project.extraVars ?? {})}\n`);
  return h.digest('hex');
}
