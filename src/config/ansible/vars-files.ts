import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isVaultText } from '../../secrets/vault-format.js';
import { parseYaml, readTextFile } from '../yaml-file.js';
import type { UnmappedFeature } from './model.js';

/** The variables of one group_vars/ or host_vars/ entry, and what of it could not be brought over. */
export interface VarsFromFiles {
  vars: Record<string, unknown>;
  files: string[];
  /** ansible-vault encrypted files: not read here (no password), copied as they are by the import. */
  encrypted: string[];
  /** The file each key was read from (the last one, when several set it). */
  origin: Map<string, string>;
  unmapped: UnmappedFeature[];
}

const VARS_EXTENSIONS = ['', '.yml', '.yaml', '.json'];

/** Files Ansible reads for `name` in a vars directory: name, name.yml|.yaml|.json, or every file under name/. */
function varsFilesFor(dir: string, name: string): string[] {
  const found: string[] = [];
  for (const ext of VARS_EXTENSIONS) {
    const path = join(dir, `${name}${ext}`);
    let st;
    try {
      st = statSync(path);
    } catch {
      continue;
    }
    if (st.isFile()) found.push(path);
    else if (st.isDirectory() && ext === '') found.push(...filesUnder(path));
  }
  return found;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => !e.name.startsWith('.'))
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

/** Reads group_vars/<name> (or host_vars/<name>) the way Ansible's host_group_vars plugin finds them. */
export function readVarsFiles(dir: string | undefined, name: string): VarsFromFiles {
  const out: VarsFromFiles = { vars: {}, files: [], encrypted: [], origin: new Map(), unmapped: [] };
  if (!dir) return out;
  for (const file of varsFilesFor(dir, name)) {
    const text = readTextFile(file, 'vars file');
    out.files.push(file);
    if (isVaultText(text)) {
      out.encrypted.push(file);
      continue;
    }
    // Inline !vault values come back as InlineVaults: carried over encrypted, never opened.
    const yaml = parseYaml(text, file);
    if (yaml.data === null || yaml.data === undefined) continue;
    if (typeof yaml.data !== 'object' || Array.isArray(yaml.data)) {
      out.unmapped.push({ file, line: 1, where: file, what: 'a vars file must be a mapping: not read' });
      continue;
    }
    for (const [key, value] of Object.entries(yaml.data as Record<string, unknown>)) {
      out.vars[key] = value;
      out.origin.set(key, file);
    }
  }
  return out;
}
