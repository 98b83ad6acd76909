import { readdirSync } from 'node:fs';
import { nameSchema } from '../schema/common.js';
import { RESERVED_VARS } from '../reserved-vars.js';
import type { AnsibleGroup, AnsibleInventory, UnmappedFeature } from './model.js';
import { readVarsFiles, type VarsFromFiles } from './vars-files.js';

/** An inventory document in kanka-infra's format, ready to be written as YAML. */
export interface ImportedInventory {
  name?: string;
  ssh?: Record<string, unknown>;
  vars: Record<string, unknown>;
  groups: Record<string, { vars?: Record<string, unknown> }>;
  hosts: Record<
    string,
    { address: string; port?: number; user?: string; groups: string[]; vars?: Record<string, unknown> }
  >;
}

export interface ImportResult {
  inventory: ImportedInventory;
  /** Every vars file read (group_vars/, host_vars/). */
  varsFiles: string[];
  /** ansible-vault encrypted vars files, by the group or host they are for (copied as they are). */
  encryptedFiles: Array<{ kind: 'group' | 'host'; name: string; file: string }>;
  unmapped: UnmappedFeature[];
  /** Ansible settings left out because kanka-infra has no need of them (said, not silently dropped). */
  dropped: UnmappedFeature[];
}

export interface ImportOptions {
  groupVarsDir?: string;
  hostVarsDir?: string;
  name?: string;
}

/** Implicit groups: `all` becomes the inventory's own vars; `ungrouped` is "no group". */
const IMPLICIT = new Set(['all', 'ungrouped']);
/** Connection settings kanka-infra has no use for: it runs POSIX sh over SSH, no Python on the host. */
const NOT_NEEDED = new Set([
  'ansible_python_interpreter',
  'ansible_connection',
  'ansible_shell_type',
  'ansible_ssh_pipelining',
  'ansible_pipelining',
]);
const ALIASES: Record<string, string> = {
  ansible_ssh_host: 'ansible_host',
  ansible_ssh_port: 'ansible_port',
  ansible_ssh_user: 'ansible_user',
  ansible_ssh_private_key_file: 'ansible_private_key_file',
};

/** Group depth as Ansible computes it (a child is one deeper than its deepest parent): the merge order. */
function depths(groups: Map<string, AnsibleGroup>): Map<string, number> {
  const depth = new Map<string, number>([['all', 0]]);
  const visit = (name: string, d: number, seen: Set<string>): void => {
    if (seen.has(name)) return;
    if ((depth.get(name) ?? -1) < d) depth.set(name, d);
    for (const c of groups.get(name)?.children ?? []) visit(c, d + 1, new Set([...seen, name]));
  };
  visit('all', 0, new Set());
  for (const name of groups.keys()) if (!depth.has(name)) visit(name, 1, new Set());
  return depth;
}

/** Every group a host is in, directly or through children, in Ansible's merge order (depth, then name). */
function groupsOfHosts(inv: AnsibleInventory): Map<string, string[]> {
  const parents = new Map<string, Set<string>>();
  for (const [name, g] of inv.groups)
    for (const c of g.children) parents.set(c, (parents.get(c) ?? new Set()).add(name));
  const depth = depths(inv.groups);
  const result = new Map<string, string[]>();
  for (const [name, g] of inv.groups) {
    for (const host of g.hosts.keys()) {
      const all = new Set(result.get(host) ?? []);
      const stack = [name];
      while (stack.length > 0) {
        const cur = stack.pop() ?? '';
        if (all.has(cur)) continue;
        all.add(cur);
        stack.push(...(parents.get(cur) ?? []));
      }
      result.set(host, [...all]);
    }
  }
  for (const [host, list] of result)
    result.set(
      host,
      list.sort((a, b) => (depth.get(a) ?? 0) - (depth.get(b) ?? 0) || a.localeCompare(b)),
    );
  return result;
}

/** Maps an Ansible inventory (and its group_vars/, host_vars/) to kanka-infra's inventory format. */
export function convertAnsibleInventory(inv: AnsibleInventory, opts: ImportOptions = {}): ImportResult {
  const unmapped: UnmappedFeature[] = [...inv.unmapped];
  const dropped: UnmappedFeature[] = [];
  const varsFiles: string[] = [];
  const encryptedFiles: ImportResult['encryptedFiles'] = [];
  const hostGroups = groupsOfHosts(inv);

  // Group vars: the inventory file's, then group_vars/<group> over them (Ansible's order).
  const groupVars = new Map<string, Record<string, unknown>>();
  /** Which vars file a value came from ("group web" -> key -> file), for the report. */
  const origin = new Map<string, Map<string, string>>();
  const noteOrigin = (level: string, files: VarsFromFiles) => {
    const m = origin.get(level) ?? new Map<string, string>();
    for (const [k, f] of files.origin) m.set(k, f);
    origin.set(level, m);
  };
  for (const [name, g] of inv.groups) {
    const files = readVarsFiles(opts.groupVarsDir, name);
    varsFiles.push(...files.files);
    unmapped.push(...files.unmapped);
    noteOrigin(`group ${name}`, files);
    encryptedFiles.push(...files.encrypted.map((file) => ({ kind: 'group' as const, name, file })));
    groupVars.set(name, { ...g.vars, ...files.vars });
  }
  if (opts.groupVarsDir) reportStrayVarsFiles(opts.groupVarsDir, new Set(inv.groups.keys()), 'group', unmapped);

  // Host vars: every line or mapping naming the host (in reading order), then host_vars/<host>.
  const hostVars = new Map<string, Record<string, unknown>>();
  for (const g of inv.groups.values())
    for (const [host, vars] of g.hosts) hostVars.set(host, { ...(hostVars.get(host) ?? {}), ...vars });
  for (const host of hostVars.keys()) {
    const files = readVarsFiles(opts.hostVarsDir, host);
    varsFiles.push(...files.files);
    unmapped.push(...files.unmapped);
    noteOrigin(`host ${host}`, files);
    encryptedFiles.push(...files.encrypted.map((file) => ({ kind: 'host' as const, name: host, file })));
    hostVars.set(host, { ...(hostVars.get(host) ?? {}), ...files.vars });
  }
  if (opts.hostVarsDir) reportStrayVarsFiles(opts.hostVarsDir, new Set(hostVars.keys()), 'host', unmapped);

  // What a host connects with comes from the merged vars, wherever it was set.
  const connection = new Map<string, Record<string, unknown>>();
  for (const [host, own] of hostVars) {
    const merged: Record<string, unknown> = { ...(groupVars.get('all') ?? {}) };
    for (const g of hostGroups.get(host) ?? []) if (g !== 'all') Object.assign(merged, groupVars.get(g));
    Object.assign(merged, own);
    const conn: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(merged)) if (k.startsWith('ansible_')) conn[ALIASES[k] ?? k] = v;
    connection.set(host, conn);
  }

  /** Where a level's setting was read: its vars file, else the inventory line of the host or group. */
  const where = (level: string, key?: string) => {
    const file = key !== undefined ? origin.get(level)?.get(key) : undefined;
    const [kind, name = ''] = level.split(' ');
    const line = file ? undefined : kind === 'host' ? inv.hostLines.get(name) : inv.groups.get(name)?.line;
    return {
      file: file ?? inv.file,
      ...(line !== undefined ? { line } : {}),
      where: key !== undefined ? `${level}: ${key}` : level,
    };
  };
  const plainVars = (vars: Record<string, unknown>, level: string): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(vars)) {
      const key = ALIASES[k] ?? k;
      if (['ansible_host', 'ansible_port', 'ansible_user', 'ansible_private_key_file', 'ansible_become'].includes(key))
        continue;
      if (NOT_NEEDED.has(key)) {
        if (key !== 'ansible_connection' || v === 'ssh' || v === 'smart' || v === 'paramiko')
          dropped.push({
            ...where(level, k),
            what: 'not needed (kanka-infra runs POSIX sh over its own SSH connection)',
          });
        else unmapped.push({ ...where(level, k), what: `${String(v)}: only SSH connections are supported` });
        continue;
      }
      if (key.startsWith('ansible_')) {
        unmapped.push({ ...where(level, k), what: 'no kanka-infra setting for it' });
        continue;
      }
      if ((RESERVED_VARS as readonly string[]).includes(k)) {
        unmapped.push({
          ...where(level, k),
          what: `variable "${k}" is a name kanka-infra gives every template: left out`,
          hint: 'rename it in the roles that use it',
        });
        continue;
      }
      if (typeof v === 'string' && /\{\{|\{%/.test(v))
        unmapped.push({
          ...where(level, k),
          what: 'a Jinja2 expression: copied as text; check it reads the same in a Handlebars template',
          hint: 'kanka-infra templates are Handlebars: filters and {% %} blocks differ',
        });
      out[k] = v;
    }
    return out;
  };

  const hostNames = [...hostVars.keys()].filter((h) => {
    if (nameSchema.safeParse(h).success) return true;
    unmapped.push({
      ...where(`host ${h}`),
      what: `host name "${h}" is not a valid kanka-infra name: host left out`,
      hint: 'letters, digits, ".", "_" or "-", starting with a letter or digit',
    });
    return false;
  });
  const groupNames = [...inv.groups.keys()].filter((g) => {
    if (IMPLICIT.has(g)) return false;
    if (nameSchema.safeParse(g).success) return true;
    unmapped.push({
      ...where(`group ${g}`),
      what: `group name "${g}" is not a valid kanka-infra name: group left out`,
    });
    return false;
  });
  const validGroup = new Set(groupNames);

  const uniform = (key: string): unknown => {
    const values = new Set(hostNames.map((h) => JSON.stringify(connection.get(h)?.[key] ?? null)));
    return values.size === 1 ? (JSON.parse([...values][0] ?? 'null') as unknown) : undefined;
  };
  const ssh: Record<string, unknown> = {};
  const sharedUser = uniform('ansible_user');
  const sharedPort = uniform('ansible_port');
  if (typeof sharedUser === 'string') ssh['user'] = sharedUser;
  if (typeof sharedPort === 'number' && sharedPort !== 22) ssh['port'] = sharedPort;
  const withoutUser = hostNames.filter((h) => typeof connection.get(h)?.['ansible_user'] !== 'string');
  if (typeof sharedUser !== 'string' && withoutUser.length > 0)
    unmapped.push({
      ...where('ansible_user'),
      what: `hosts without ansible_user (${withoutUser.join(', ')}) connect as ssh.user (root), where Ansible used your local login`,
      hint: 'set ssh.user, or user: on those hosts',
    });
  const key = uniform('ansible_private_key_file');
  if (typeof key === 'string') ssh['key_file'] = key;
  // No key named: Ansible's ssh offers the agent's keys; so does kanka-infra with agent: true.
  else ssh['agent'] = true;
  if (key === undefined)
    unmapped.push({
      ...where('ansible_private_key_file'),
      what: 'hosts use different SSH keys: kanka-infra has one key per inventory (ssh.key_file) or the agent',
      hint: 'load the keys into ssh-agent and set ssh.agent: true',
    });
  const become = uniform('ansible_become');
  if (become === true || become === 'true' || become === 'True') {
    if (sharedUser !== undefined && sharedUser !== 'root' && sharedUser !== null) ssh['sudo'] = true;
  } else if (become === undefined)
    unmapped.push({
      ...where('ansible_become'),
      what: 'become is set for some hosts only: kanka-infra runs every host as root, or every host through sudo (ssh.sudo)',
    });

  const hosts: ImportedInventory['hosts'] = {};
  for (const h of hostNames) {
    const conn = connection.get(h) ?? {};
    const address = conn['ansible_host'];
    const port = conn['ansible_port'];
    const user = conn['ansible_user'];
    const vars = plainVars(hostVars.get(h) ?? {}, `host ${h}`);
    hosts[h] = {
      address: typeof address === 'string' ? address : h,
      ...(typeof port === 'number' && ssh['port'] === undefined && port !== 22 ? { port } : {}),
      ...(typeof user === 'string' && ssh['user'] === undefined ? { user } : {}),
      groups: (hostGroups.get(h) ?? []).filter((g) => validGroup.has(g)),
      ...(Object.keys(vars).length > 0 ? { vars } : {}),
    };
  }
  const groups: ImportedInventory['groups'] = {};
  for (const g of groupNames) {
    const vars = plainVars(groupVars.get(g) ?? {}, `group ${g}`);
    groups[g] = Object.keys(vars).length > 0 ? { vars } : {};
  }
  const inventory: ImportedInventory = {
    ...(opts.name ? { name: opts.name } : {}),
    ...(Object.keys(ssh).length > 0 ? { ssh } : {}),
    vars: plainVars(groupVars.get('all') ?? {}, 'group all'),
    groups,
    hosts,
  };
  return { inventory, varsFiles, encryptedFiles, unmapped: dedupe(unmapped), dropped: dedupe(dropped) };
}

function reportStrayVarsFiles(
  dir: string,
  known: Set<string>,
  kind: 'group' | 'host',
  unmapped: UnmappedFeature[],
): void {
  for (const name of readVarsDirNames(dir))
    if (!known.has(name))
      unmapped.push({
        file: dir,
        where: name,
        what: `vars for ${kind} "${name}", which the inventory does not have: not read`,
      });
}

function readVarsDirNames(dir: string): string[] {
  try {
    return [...new Set(readdirNames(dir).map((n) => n.replace(/\.(ya?ml|json)$/, '')))];
  } catch {
    return [];
  }
}

function readdirNames(dir: string): string[] {
  return readdirSync(dir).filter((n) => !n.startsWith('.'));
}

function dedupe(list: UnmappedFeature[]): UnmappedFeature[] {
  const seen = new Set<string>();
  return list.filter((u) => {
    const k = `${u.file}:${u.line ?? ''}:${u.where}:${u.what}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
