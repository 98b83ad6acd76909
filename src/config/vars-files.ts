import type { VaultSecret } from '../secrets/vault-id.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, describeFsError, formatKeyPath, type Diagnostic } from '../diagnostics/diagnostic.js';
import { decryptOrThrow, parseSecretsYaml } from '../secrets/load-secrets.js';
import { isVaultText } from '../secrets/vault-format.js';
import { didYouMean } from './closest.js';
import type { Inventory, Vars, VarsFile, VarsScope } from './model.js';
import { pathKind } from './path-kind.js';
import { varsSchema } from './schema/common.js';
import { loadYamlFile, type YamlFile } from './yaml-file.js';
import { validateWith } from './zod-diagnostics.js';

/** The two folders read beside the inventory file, as Ansible reads them beside its inventory. */
const FOLDERS = { group: 'group_vars', host: 'host_vars' } as const;
const YAML_EXT = /\.ya?ml$/;

/** Where a variable is set, for "also set in" messages. */
export interface VarOrigin {
  file: string;
  path: ReadonlyArray<string | number>;
  line?: number;
}

/** What the inventory declares, to check the files' names against and to find its own (inline) variables. */
export interface InlineScopes {
  groups: string[];
  hosts: string[];
  /** The inline variables of a scope and where each is written in the inventory file. */
  vars(scope: VarsScope): Vars;
  origin(scope: VarsScope, key: string): VarOrigin;
}

interface Found {
  file: string;
  kind: 'group' | 'host';
  name: string;
}

/**
 * Reads group_vars/ and host_vars/ in `dir`: `<name>.yml` (or .yaml), or a folder `<name>/` whose
 * *.yml files are read in name order. An encrypted file is opened only with `vaultPassword`
 * (without it, its `vars` stay undefined). Throws a ConfigError listing every problem: a name that
 * is no group or host of the inventory, a file that is not a mapping of variables, and a variable
 * set twice for the same group or host (inline and in a file, or in two files).
 */
export function loadVarsFiles(
  dir: string,
  inline: InlineScopes,
  vaultPassword?: string | readonly VaultSecret[],
): VarsFile[] {
  const diagnostics: Diagnostic[] = [];
  const found = (['group', 'host'] as const).flatMap((kind) =>
    findVarsFiles(join(dir, FOLDERS[kind]), kind, diagnostics),
  );
  const out: VarsFile[] = [];
  const origins = new Map<string, Map<string, VarOrigin>>();
  for (const f of found) {
    const scope = scopeOf(f, inline, diagnostics);
    if (!scope) continue;
    const read = readVarsFile(f.file, vaultPassword, diagnostics);
    if (!read) continue;
    out.push({ file: f.file, scope, encrypted: read.encrypted, ...(read.vars ? { vars: read.vars } : {}) });
    if (!read.vars) continue;
    const seen = originsOf(scope, inline, origins);
    for (const key of Object.keys(read.vars)) {
      const here: VarOrigin = { file: f.file, path: [key], ...lineAt(read.yaml, key) };
      const before = seen.get(key);
      if (before) {
        diagnostics.push({
          ...here,
          message: `"${key}" is also set for ${describeScope(scope)} at ${where(before)}`,
          hint: 'a variable is set in one place per group or host (inline or one vars file): keep one of the two',
        });
      } else seen.set(key, here);
    }
  }
  if (diagnostics.length > 0) throw new ConfigError(diagnostics);
  return out;
}

export function describeScope(scope: VarsScope): string {
  return scope.kind === 'all' ? 'every host (all)' : `${scope.kind} ${scope.name}`;
}

function scopeKey(scope: VarsScope): string {
  return scope.kind === 'all' ? 'all' : `${scope.kind}:${scope.name}`;
}

function where(o: VarOrigin): string {
  const key = formatKeyPath(o.path);
  return `${o.file}${o.line !== undefined ? `:${o.line}` : ''}${key ? ` (${key})` : ''}`;
}

function lineAt(yaml: YamlFile | undefined, key: string): { line?: number } {
  const pos = yaml?.locate([key]);
  return pos ? { line: pos.line } : {};
}

/** The variables already set for this scope: its inline ones first, then each file read. */
function originsOf(
  scope: VarsScope,
  inline: InlineScopes,
  origins: Map<string, Map<string, VarOrigin>>,
): Map<string, VarOrigin> {
  const k = scopeKey(scope);
  let seen = origins.get(k);
  if (!seen) {
    seen = new Map(Object.keys(inline.vars(scope)).map((key) => [key, inline.origin(scope, key)]));
    origins.set(k, seen);
  }
  return seen;
}

/** A file's name must be a group or host of this inventory: a typo would otherwise be ignored in silence. */
function scopeOf(f: Found, inline: InlineScopes, diagnostics: Diagnostic[]): VarsScope | undefined {
  if (f.kind === 'group' && f.name === 'all') return { kind: 'all' };
  const known = f.kind === 'group' ? inline.groups : inline.hosts;
  if (known.includes(f.name)) return { kind: f.kind, name: f.name };
  diagnostics.push({
    file: f.file,
    message: `no ${f.kind} named "${f.name}" in the inventory, so these variables would apply to nothing`,
    hint: `${didYouMean(f.name, f.kind === 'group' ? [...known, 'all'] : known)}rename the file, or delete it (a removed ${f.kind}?); ${f.kind}s: ${known.join(', ') || '(none)'}`,
  });
  return undefined;
}

function findVarsFiles(folder: string, kind: 'group' | 'host', diagnostics: Diagnostic[]): Found[] {
  if (pathKind(folder, `the ${FOLDERS[kind]} folder`) !== 'directory') return [];
  return entries(folder, diagnostics).flatMap((entry): Found[] => {
    const path = join(folder, entry);
    const kindOfPath = pathKind(path, 'a vars file');
    if (kindOfPath === 'directory') {
      return entries(path, diagnostics)
        .filter((f) => YAML_EXT.test(f) && pathKind(join(path, f), 'a vars file') === 'file')
        .map((f) => ({ file: join(path, f), kind, name: entry }));
    }
    if (kindOfPath !== 'file') return [];
    if (YAML_EXT.test(entry)) return [{ file: path, kind, name: entry.replace(YAML_EXT, '') }];
    // Ansible also reads `group_vars/web` without an extension; here it would be skipped in silence.
    if (!entry.includes('.'))
      diagnostics.push({
        file: path,
        message: 'a vars file needs the .yml extension',
        hint: `rename it to ${entry}.yml`,
      });
    return [];
  });
}

/** Entries in name order (code points, the same on every machine), hidden ones left out. */
function entries(dir: string, diagnostics: Diagnostic[]): string[] {
  try {
    return readdirSync(dir)
      .filter((n) => !n.startsWith('.'))
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  } catch (err) {
    diagnostics.push({ file: dir, message: `cannot read the folder: ${describeFsError(err)}` });
    return [];
  }
}

interface Read {
  encrypted: boolean;
  vars?: Vars;
  yaml?: YamlFile;
}

function readVarsFile(
  file: string,
  vaultPassword: string | readonly VaultSecret[] | undefined,
  diagnostics: Diagnostic[],
): Read | undefined {
  try {
    let data: Buffer;
    try {
      data = readFileSync(file);
    } catch (err) {
      diagnostics.push({ file, message: `cannot read the vars file: ${describeFsError(err)}` });
      return undefined;
    }
    if (isVaultText(data)) {
      if (vaultPassword === undefined) return { encrypted: true };
      // Like the secrets file: every value a Secret, nested mappings kept, lists refused.
      return { encrypted: true, vars: { ...parseSecretsYaml(decryptOrThrow(data, vaultPassword, file), file) } };
    }
    const yaml = loadYamlFile(file, 'vars file');
    const checked = validateWith(varsSchema, yaml.data ?? {}, yaml);
    if (!checked.ok) {
      diagnostics.push(...checked.diagnostics);
      return undefined;
    }
    return { encrypted: false, vars: checked.value, yaml };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    diagnostics.push(...err.diagnostics);
    return undefined;
  }
}

/** The variables of one scope: the inventory's inline ones and those of its vars files (never the same key twice). */
export function scopeVarsOf(inlineVars: Vars, files: readonly VarsFile[], scope: VarsScope): Vars {
  const k = scopeKey(scope);
  return Object.assign(
    {},
    inlineVars,
    ...files.filter((f) => scopeKey(f.scope) === k).map((f) => f.vars ?? {}),
  ) as Vars;
}

/** A scope's variables in a loaded inventory (inline and from its vars files). */
export function scopeVars(inventory: Inventory, scope: VarsScope): Vars {
  const inline =
    scope.kind === 'all'
      ? inventory.vars
      : scope.kind === 'group'
        ? (inventory.groups.get(scope.name)?.vars ?? {})
        : (inventory.hosts.find((h) => h.name === scope.name)?.vars ?? {});
  return scopeVarsOf(inline, inventory.varsFiles ?? [], scope);
}
