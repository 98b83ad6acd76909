import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { hostGroups, readAnsibleInventory, type AnsibleInventory } from '../../config/ansible-inventory.js';
import type { Vars } from '../../config/model.js';
import { pathKind } from '../../config/path-kind.js';
import { nameSchema } from '../../config/schema/common.js';
import { ConfigError, describeFsError } from '../../diagnostics/diagnostic.js';
import { UsageError } from '../../diagnostics/usage-error.js';
import { writeAtomic } from '../../local/write-atomic.js';
import { isVaultText } from '../../secrets/vault-format.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { write, type Io } from '../io.js';

export interface ImportOptions {
  /** Folder holding Ansible's group_vars/ and host_vars/ (default: the inventory's folder). */
  groupVars?: string;
  out?: string;
}

/** Ansible connection variables this inventory has a field for; every other ansible_* is reported. */
const MAPPED = {
  address: ['ansible_host', 'ansible_ssh_host'],
  port: ['ansible_port', 'ansible_ssh_port'],
  user: ['ansible_user', 'ansible_ssh_user'],
  key: ['ansible_ssh_private_key_file', 'ansible_private_key_file'],
  become: ['ansible_become', 'ansible_sudo'],
} as const;
const MAPPED_NAMES = new Set<string>(Object.values(MAPPED).flat());

interface VarsFileCopy {
  source: string;
  kind: 'group' | 'host';
  name: string;
  /** Path under the output folder: group_vars/web.yml, group_vars/db/main.yml. */
  target: string;
  encrypted: boolean;
  vars?: Vars;
}

const isAnsibleVar = (k: string) => k.startsWith('ansible_');
const without = (vars: Vars, drop: (k: string) => boolean): Vars =>
  Object.fromEntries(Object.entries(vars).filter(([k]) => !drop(k)));

/**
 * `inventory import`: an Ansible inventory (INI or YAML) and its group_vars/host_vars become an
 * inventory of this project and vars files beside it. Everything that does not carry over is
 * reported; so is any host whose variables would come out different from Ansible's.
 */
export function inventoryImportCommand(source: string, opts: ImportOptions, io: Io): ExitCode {
  const file = resolve(io.cwd, source);
  if (pathKind(file, 'the Ansible inventory') !== 'file') throw new UsageError(`${source}: no such file`);
  const inv = readAnsibleInventory(file);
  const unmapped = [...inv.unmapped];
  const varsDir = opts.groupVars !== undefined ? resolve(io.cwd, opts.groupVars) : dirname(file);
  if (opts.groupVars !== undefined && pathKind(varsDir, '--group-vars') !== 'directory')
    throw new UsageError(`--group-vars ${opts.groupVars}: not a folder`);
  const files = findAnsibleVarsFiles(varsDir, inv, unmapped);
  const hostNames = [...inv.hosts.keys()];
  const resolved = new Map(hostNames.map((h) => [h, ansibleHostVars(inv, files, h)]));

  // Connection settings, from the variables Ansible would use for each host.
  const pick = (v: Vars, names: readonly string[]): unknown => names.map((n) => v[n]).find((x) => x !== undefined);
  const users = hostNames.map((h) => pick(resolved.get(h) ?? {}, MAPPED.user));
  const keys = new Set(hostNames.map((h) => pick(resolved.get(h) ?? {}, MAPPED.key)));
  // The most common user is ssh.user; hosts with another one say so.
  const counts = new Map<string, number>();
  for (const u of users) if (typeof u === 'string') counts.set(u, (counts.get(u) ?? 0) + 1);
  const sharedUser = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'root';
  if (users.every((u) => u === undefined))
    unmapped.push('no ansible_user: kanka-infra connects as root (ssh.user); change it if that is not right');
  const [onlyKey] = [...keys];
  const ssh: Vars = { user: sharedUser };
  if (keys.size === 1 && typeof onlyKey === 'string') ssh['key_file'] = onlyKey;
  else {
    ssh['agent'] = true;
    if (keys.size > 1) unmapped.push('ansible_ssh_private_key_file differs between hosts: ssh.agent: true instead');
  }
  const nonRoot = users.some((u) => typeof u === 'string' && u !== 'root') || sharedUser !== 'root';
  if (nonRoot) {
    ssh['sudo'] = true;
    const noBecome = hostNames.filter(
      (h) =>
        pick(resolved.get(h) ?? {}, MAPPED.become) !== true && pick(resolved.get(h) ?? {}, MAPPED.become) !== 'true',
    );
    if (noBecome.length > 0)
      unmapped.push(
        `kanka-infra runs every task as root: ssh.sudo: true although ansible_become is not set for ${noBecome.join(', ')}`,
      );
  }

  // Inline variables: ansible_* left out, and those a vars file of the same group or host also sets
  // (Ansible: the file wins; here one place per variable).
  const fileKeys = (kind: 'group' | 'host', name: string) =>
    new Set(files.filter((f) => f.kind === kind && f.name === name).flatMap((f) => Object.keys(f.vars ?? {})));
  const inline = (kind: 'group' | 'host', name: string, vars: Vars): Vars => {
    const inFiles = fileKeys(kind, name);
    for (const k of Object.keys(vars))
      if (inFiles.has(k) && !isAnsibleVar(k))
        unmapped.push(
          `${kind} ${name}: "${k}" is set inline and in a vars file: the file's value is kept (as in Ansible)`,
        );
    return without(vars, (k) => isAnsibleVar(k) || inFiles.has(k));
  };
  const groups: Record<string, { vars?: Vars }> = {};
  for (const [name, g] of inv.groups) {
    if (name === 'all' || name === 'ungrouped') continue;
    if (!nameSchema.safeParse(name).success)
      unmapped.push(`group "${name}": not a valid name here (letters, digits, . _ -)`);
    const vars = inline('group', name, g.vars);
    groups[name] = Object.keys(vars).length > 0 ? { vars } : {};
  }
  const hosts: Record<string, Vars> = {};
  for (const h of hostNames) {
    const v = resolved.get(h) ?? {};
    const address = pick(v, MAPPED.address);
    const port = pick(v, MAPPED.port);
    const user = pick(v, MAPPED.user);
    const entry: Vars = { address: typeof address === 'string' ? address : h };
    if (port !== undefined && Number(port) !== 22) entry['port'] = Number(port);
    if (typeof user === 'string' && user !== sharedUser) entry['user'] = user;
    entry['groups'] = hostGroups(inv, h).filter((g) => g !== 'all' && g !== 'ungrouped');
    const vars = inline('host', h, inv.hosts.get(h) ?? {});
    if (Object.keys(vars).length > 0) entry['vars'] = vars;
    hosts[h] = entry;
  }
  reportAnsibleVars(inv, files, unmapped);
  checkSameVariables(inv, files, groups, hosts, resolved, unmapped);

  const inventory = { ssh, vars: inline('group', 'all', inv.groups.get('all')?.vars ?? {}), groups, hosts };
  const text = `# Imported from ${file} by kanka-infra inventory import.\n${stringify(inventory)}`;
  if (opts.out === undefined) {
    write(io.stdout, text);
    if (files.length > 0)
      unmapped.push(`${files.length} vars file(s) not copied: give -o <file> to write them beside it`);
  } else {
    const out = resolve(io.cwd, opts.out);
    const targets = [out, ...files.map((f) => join(dirname(out), f.target))];
    const existing = targets.filter((t) => pathKind(t, 'the output') !== 'missing');
    if (existing.length > 0) throw new UsageError(`already there, not overwritten: ${existing.join(', ')}`);
    mkdirSync(dirname(out), { recursive: true });
    writeAtomic(out, text);
    for (const f of files) {
      const target = join(dirname(out), f.target);
      mkdirSync(dirname(target), { recursive: true });
      writeAtomic(target, readBytes(f.source), f.encrypted ? { mode: 0o600 } : {});
    }
  }
  const summary = `imported ${hostNames.length} host(s), ${Object.keys(groups).length} group(s), ${files.length} vars file(s)`;
  write(
    io.stderr,
    [
      opts.out !== undefined ? `${summary} into ${resolve(io.cwd, opts.out)}` : summary,
      ...(unmapped.length > 0 ? ['not carried over (check each):', ...unmapped.map((u) => `  - ${u}`)] : []),
      ...(opts.out !== undefined ? [`next: kanka-infra validate ${opts.out}`] : []),
    ].join('\n'),
  );
  return EXIT.OK;
}

/** Ansible's group_vars/ and host_vars/: `<name>`, `<name>.yml|.yaml|.json`, or a folder of them. */
function findAnsibleVarsFiles(dir: string, inv: AnsibleInventory, unmapped: string[]): VarsFileCopy[] {
  const out: VarsFileCopy[] = [];
  for (const kind of ['group', 'host'] as const) {
    const folder = join(dir, `${kind}_vars`);
    if (pathKind(folder, `${kind}_vars`) !== 'directory') continue;
    const known = kind === 'group' ? [...inv.groups.keys()] : [...inv.hosts.keys()];
    for (const entry of sortedEntries(folder)) {
      const path = join(folder, entry);
      const isDir = pathKind(path, 'a vars file') === 'directory';
      const name = isDir ? entry : entry.replace(/\.(ya?ml|json)$/, '');
      if (!known.includes(name) || name === 'ungrouped') {
        unmapped.push(`${path}: no ${kind} "${name}" in the inventory (Ansible ignores it): not copied`);
        continue;
      }
      const sources = isDir
        ? sortedEntries(path)
            .filter((f) => /\.(ya?ml|json)$/.test(f) || !f.includes('.'))
            .map((f) => ({ source: join(path, f), target: `${kind}_vars/${name}/${f.replace(/\.(yaml|json)$/, '')}` }))
        : [{ source: path, target: `${kind}_vars/${name}` }];
      for (const s of sources) {
        const bytes = readBytes(s.source);
        const encrypted = isVaultText(bytes);
        const target = `${s.target.replace(/\.yml$/, '')}.yml`;
        if (encrypted) {
          out.push({ source: s.source, kind, name, target, encrypted });
          unmapped.push(`${s.source}: encrypted, copied as is: its variables could not be compared with Ansible's`);
          continue;
        }
        let data: unknown;
        try {
          data = parse(bytes.toString('utf8'));
        } catch (err) {
          unmapped.push(`${s.source}: not YAML (${(err as Error).message.split('\n')[0] ?? ''}): not copied`);
          continue;
        }
        const vars = data !== null && typeof data === 'object' && !Array.isArray(data) ? (data as Vars) : {};
        out.push({ source: s.source, kind, name, target, encrypted, vars });
      }
    }
  }
  return out;
}

function sortedEntries(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((n) => !n.startsWith('.'))
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  } catch (err) {
    throw new ConfigError([{ file: dir, message: `cannot read the folder: ${describeFsError(err)}` }]);
  }
}

function readBytes(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new ConfigError([{ file, message: `cannot read the vars file: ${describeFsError(err)}` }]);
  }
}

/**
 * A host's variables as Ansible computes them: inventory group vars (all, then by depth and name)
 * < group_vars files (same order) < inventory host vars < host_vars files.
 */
function ansibleHostVars(inv: AnsibleInventory, files: VarsFileCopy[], host: string): Vars {
  const groups = hostGroups(inv, host);
  const fileVars = (kind: 'group' | 'host', name: string) =>
    files.filter((f) => f.kind === kind && f.name === name).map((f) => f.vars ?? {});
  return Object.assign(
    {},
    ...groups.map((g) => inv.groups.get(g)?.vars ?? {}),
    ...groups.flatMap((g) => fileVars('group', g)),
    inv.hosts.get(host) ?? {},
    ...fileVars('host', host),
  ) as Vars;
}

/** The same variables per host, as this project will merge them, compared with Ansible's. */
function checkSameVariables(
  inv: AnsibleInventory,
  files: VarsFileCopy[],
  groups: Record<string, { vars?: Vars }>,
  hosts: Record<string, Vars>,
  resolved: Map<string, Vars>,
  unmapped: string[],
): void {
  const scope = (kind: 'group' | 'host', name: string, inlineVars: Vars | undefined): Vars =>
    Object.assign(
      {},
      inlineVars ?? {},
      ...files.filter((f) => f.kind === kind && f.name === name).map((f) => f.vars ?? {}),
    ) as Vars;
  for (const [h, entry] of Object.entries(hosts)) {
    const ours = Object.assign(
      {},
      scope('group', 'all', without(inv.groups.get('all')?.vars ?? {}, isAnsibleVar)),
      ...(entry['groups'] as string[]).map((g) => scope('group', g, groups[g]?.vars)),
      scope('host', h, entry['vars'] as Vars | undefined),
    ) as Vars;
    const theirs = resolved.get(h) ?? {};
    for (const k of new Set([...Object.keys(ours), ...Object.keys(theirs)])) {
      if (isAnsibleVar(k)) continue;
      if (JSON.stringify(ours[k]) !== JSON.stringify(theirs[k]))
        unmapped.push(
          `host ${h}: "${k}" would be ${JSON.stringify(ours[k])} here but ${JSON.stringify(theirs[k])} in Ansible (Ansible ranks every inventory group variable below every group_vars file); move it to the vars file of the same group`,
        );
    }
  }
}

/** ansible_* variables other than the connection ones this format has fields for, and Jinja2 expressions. */
function reportAnsibleVars(inv: AnsibleInventory, files: VarsFileCopy[], unmapped: string[]): void {
  const places: Array<[string, Vars]> = [
    ...[...inv.groups].map(([g, v]): [string, Vars] => [`group ${g}`, v.vars]),
    ...[...inv.hosts].map(([h, v]): [string, Vars] => [`host ${h}`, v]),
    ...files.map((f): [string, Vars] => [f.source, f.vars ?? {}]),
  ];
  const notMapped = new Map<string, string[]>();
  for (const [where, vars] of places) {
    for (const [k, v] of Object.entries(vars)) {
      if (isAnsibleVar(k) && !MAPPED_NAMES.has(k)) notMapped.set(k, [...(notMapped.get(k) ?? []), where]);
      if (typeof v === 'string' && v.includes('{{'))
        unmapped.push(`${where}: "${k}" is a Jinja2 template: templates here are Handlebars, check it`);
    }
  }
  for (const [k, where] of notMapped)
    unmapped.push(`${k} (${where.join(', ')}): no equivalent in kanka-infra, not carried over`);
  for (const f of files)
    for (const k of Object.keys(f.vars ?? {}))
      if (isAnsibleVar(k)) unmapped.push(`${f.source}: "${k}" stays in the copied file as a plain variable`);
}
