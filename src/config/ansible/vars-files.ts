import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
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
    // Inline !vault values are reported and left out; the rest is read with the usual checks.
    const lineCounter = new LineCounter();
    const doc = parseDocument(text, { uniqueKeys: false, lineCounter });
    const vaulted = vaultedKeys(doc, lineCounter);
    for (const [key, line] of vaulted) {
      out.unmapped.push({
        file,
        ...(line !== undefined ? { line } : {}),
        where: key,
        what: 'an inline !vault value: not decrypted by the import',
        hint: `put it in the inventory's secrets file and use {{ secrets.${key} }}`,
      });
      doc.delete(key);
    }
    const yaml = parseYaml(vaulted.size > 0 ? doc.toString() : text, file);
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

/** Top-level keys whose value is tagged !vault (encrypt_string output), with their lines. */
function vaultedKeys(doc: Document, lineCounter: LineCounter): Map<string, number | undefined> {
  const keys = new Map<string, number | undefined>();
  if (!isMap(doc.contents)) return keys;
  for (const item of doc.contents.items) {
    const value = item.value as { tag?: string } | null;
    if (isScalar(item.key) && value?.tag === '!vault')
      keys.set(String(item.key.value), item.key.range ? lineCounter.linePos(item.key.range[0]).line : undefined);
  }
  return keys;
}
