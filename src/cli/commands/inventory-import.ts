import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import { Scalar, stringify } from 'yaml';
import { convertAnsibleInventory, type ImportResult } from '../../config/ansible/convert.js';
import { parseIniInventory } from '../../config/ansible/ini-inventory.js';
import type { UnmappedFeature } from '../../config/ansible/model.js';
import { parseYamlInventory } from '../../config/ansible/yaml-inventory.js';
import { readTextFile } from '../../config/yaml-file.js';
import { inventorySchema } from '../../config/schema/inventory.js';
import { UsageError } from '../../diagnostics/usage-error.js';
import { formatKeyPath } from '../../diagnostics/diagnostic.js';
import { writeAtomic } from '../../local/write-atomic.js';
import { findInlineVaults, InlineVault } from '../../secrets/inline-vault.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { write, type Io } from '../io.js';

export interface InventoryImportOptions {
  out?: string;
  groupVars?: string;
  hostVars?: string;
  name?: string;
  force?: boolean;
  json?: boolean;
}

/** group_vars/ or host_vars/ beside the Ansible inventory, as Ansible finds them; or the one given. */
function varsDir(given: string | undefined, inventoryFile: string, name: string, cwd: string): string | undefined {
  if (given !== undefined) {
    const dir = resolve(cwd, given);
    if (!existsSync(dir) || !statSync(dir).isDirectory())
      throw new UsageError(`--${name.replace('_', '-')} ${given}: no such directory`);
    return dir;
  }
  const beside = join(dirname(inventoryFile), name);
  return existsSync(beside) && statSync(beside).isDirectory() ? beside : undefined;
}

/** Everything the import will write can be written: said before anything is (no partial output). */
function checkOutputPaths(
  out: string,
  copies: ReadonlyArray<{ from: string; to: string }>,
  force: boolean,
  cwd: string,
): void {
  const shown = (p: string) => relative(cwd, p) || p;
  const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();
  const dir = dirname(out);
  if (!isDir(dir)) throw new UsageError(`-o ${shown(out)}: ${shown(dir)} is not a directory (create it first)`);
  if (isDir(out)) throw new UsageError(`-o ${shown(out)} is a directory: name the inventory file to write`);
  for (const target of [out, ...copies.map((c) => c.to)])
    if (existsSync(target) && !force)
      throw new UsageError(`${shown(target)} exists: not overwritten (--force replaces it)`);
  for (const c of copies)
    for (let p = dirname(c.to); p !== dir && p.startsWith(dir); p = dirname(p))
      if (existsSync(p) && !isDir(p))
        throw new UsageError(`${shown(p)} is not a directory: ${shown(c.from)} cannot be copied under it`);
}

/** The written YAML: inline !vault values as `!vault |` blocks, still encrypted (this format reads them). */
function yamlNodes(value: unknown): unknown {
  if (value instanceof InlineVault) {
    const node = new Scalar(value.text.endsWith('\n') ? value.text : `${value.text}\n`);
    node.tag = '!vault';
    node.type = 'BLOCK_LITERAL';
    return node;
  }
  if (Array.isArray(value)) return value.map(yamlNodes);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, yamlNodes(v)]));
  return value;
}

/**
 * Where each encrypted vars file goes: `<kind>_vars/<name>/<file>.yml` beside the written inventory,
 * for a group or host the inventory has. Without -o there is nowhere to copy them: they are listed.
 */
function encryptedCopies(
  result: ImportResult,
  out: string | undefined,
): { planned: Array<{ from: string; to: string }>; unmapped: UnmappedFeature[] } {
  const planned: Array<{ from: string; to: string }> = [];
  const unmapped: UnmappedFeature[] = [];
  for (const e of result.encryptedFiles) {
    const known =
      e.kind === 'host' ? e.name in result.inventory.hosts : e.name === 'all' || e.name in result.inventory.groups;
    if (!known) continue;
    if (!out) {
      unmapped.push({
        file: e.file,
        where: `${e.kind} ${e.name}`,
        what: 'an ansible-vault encrypted vars file: give -o to copy it beside the inventory',
      });
      continue;
    }
    const base = basename(e.file).replace(/\.(ya?ml|json)$/, '');
    planned.push({ from: e.file, to: join(dirname(out), `${e.kind}_vars`, e.name, `${base}.yml`) });
  }
  return { planned, unmapped };
}

function featureLine(u: UnmappedFeature, cwd: string): string {
  const at = `${relative(cwd, u.file) || u.file}${u.line !== undefined ? `:${u.line}` : ''}`;
  return `${at}: ${u.where}: ${u.what}${u.hint ? `\n    hint: ${u.hint}` : ''}`;
}

function header(source: string, r: ImportResult, cwd: string): string {
  const lines = [
    `# Imported from ${relative(cwd, source) || source} by kanka-infra inventory import.`,
    ...(r.unmapped.length > 0
      ? [
          `# Not mapped (${r.unmapped.length}): fix these by hand, then run kanka-infra validate.`,
          ...r.unmapped.map((u) => `#   ${featureLine(u, cwd).replace(/\n/g, '\n#   ')}`),
        ]
      : ['# Every Ansible setting found was mapped.']),
    ...(r.dropped.length > 0
      ? ['# Left out, not needed here:', ...r.dropped.map((u) => `#   ${featureLine(u, cwd)}`)]
      : []),
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * Brings an Ansible inventory (INI or YAML, with its group_vars/ and host_vars/) over to this
 * project's format. Everything it could not map is listed (in the report and in the file's header),
 * never dropped silently. Exit 0: all mapped; 2: written, but something needs a person.
 */
export function inventoryImportCommand(source: string, opts: InventoryImportOptions, io: Io): ExitCode {
  const file = resolve(io.cwd, source);
  const text = readTextFile(file, 'Ansible inventory');
  const yamlForm = ['.yml', '.yaml', '.json'].includes(extname(file).toLowerCase());
  const parsed = yamlForm ? parseYamlInventory(text, file) : parseIniInventory(text, file);
  const out = opts.out !== undefined ? resolve(io.cwd, opts.out) : undefined;
  const groupVarsDir = varsDir(opts.groupVars, file, 'group_vars', io.cwd);
  const hostVarsDir = varsDir(opts.hostVars, file, 'host_vars', io.cwd);
  const result = convertAnsibleInventory(parsed, {
    ...(groupVarsDir ? { groupVarsDir } : {}),
    ...(hostVarsDir ? { hostVarsDir } : {}),
    ...(opts.name ? { name: opts.name } : {}),
  });
  const copies = encryptedCopies(result, out);
  if (out) checkOutputPaths(out, copies.planned, opts.force === true, io.cwd);
  // What validate would refuse is said now, not at the first plan.
  const check = inventorySchema.safeParse(result.inventory);
  const invalid: UnmappedFeature[] = check.success
    ? []
    : check.error.issues.map((i) => ({
        file,
        where: formatKeyPath(i.path as Array<string | number>),
        what: `the imported value is not valid here: ${i.message}`,
      }));
  const all = { ...result, unmapped: [...result.unmapped, ...copies.unmapped, ...invalid] };
  const yaml = header(file, all, io.cwd) + stringify(yamlNodes(result.inventory), { lineWidth: 0 });
  if (out) {
    for (const c of copies.planned) {
      mkdirSync(dirname(c.to), { recursive: true });
      // Byte for byte: the import never opens an encrypted file.
      writeAtomic(c.to, readFileSync(c.from));
    }
    writeAtomic(out, yaml);
  }
  const code = all.unmapped.length > 0 ? EXIT.CHANGES : EXIT.OK;
  if (opts.json) {
    write(
      io.stdout,
      JSON.stringify(
        {
          source: file,
          written: out ?? null,
          varsFiles: result.varsFiles,
          encryptedCopies: copies.planned,
          hosts: Object.keys(result.inventory.hosts).length,
          groups: Object.keys(result.inventory.groups).length,
          unmapped: all.unmapped,
          dropped: result.dropped,
          ...(out ? {} : { inventory: result.inventory }),
        },
        null,
        2,
      ),
    );
    return code;
  }
  if (!out) io.stdout.write(yaml);
  const vaultValues = findInlineVaults(result.inventory).length;
  const summary = [
    `${out ? `wrote ${relative(io.cwd, out) || out}: ` : ''}${Object.keys(result.inventory.hosts).length} hosts, ${Object.keys(result.inventory.groups).length} groups from ${relative(io.cwd, file) || file}${result.varsFiles.length > 0 ? ` and ${result.varsFiles.length} vars files` : ''}`,
    ...(all.unmapped.length > 0
      ? [
          `not mapped (${all.unmapped.length}): fix these by hand, then run kanka-infra validate`,
          ...all.unmapped.map((u) => `  ${featureLine(u, io.cwd)}`),
        ]
      : ['every Ansible setting found was mapped']),
    ...(vaultValues > 0
      ? [`!vault values carried over as they are (${vaultValues}): validate and plan open them with the vault password`]
      : []),
    ...(copies.planned.length > 0
      ? [
          `encrypted vars files copied as they are (${copies.planned.length}): validate and plan open them with the vault password`,
          ...copies.planned.map((c) => `  ${relative(io.cwd, c.from)} -> ${relative(io.cwd, c.to)}`),
        ]
      : []),
    ...(result.dropped.length > 0
      ? [
          `left out, not needed here (${result.dropped.length}):`,
          ...result.dropped.map((u) => `  ${featureLine(u, io.cwd)}`),
        ]
      : []),
    "next: pin the hosts' SSH keys (known_hosts beside the inventory), then kanka-infra validate and plan",
  ];
  write(out ? io.stdout : io.stderr, summary.join('\n'));
  return code;
}
