import { parse } from 'yaml';
import { ConfigError } from '../diagnostics/diagnostic.js';
import type { Vars } from './model.js';
import { readTextFile } from './yaml-file.js';

/** An Ansible inventory as Ansible sees it: groups (with `all` and `ungrouped`), their children and hosts. */
export interface AnsibleInventory {
  groups: Map<string, AnsibleGroup>;
  /** Variables written with each host (merged when a host is listed more than once). */
  hosts: Map<string, Vars>;
  /** What was found but cannot be carried over, with where. */
  unmapped: string[];
}

export interface AnsibleGroup {
  vars: Vars;
  children: string[];
  hosts: string[];
}

/** web[1:3], db-[a:c]: Ansible expands them; an import would have to invent the names. */
const RANGE = /\[[^\]]*:[^\]]*\]/;

/** Reads an Ansible inventory file, INI or YAML (by its content, as Ansible tries both). */
export function readAnsibleInventory(file: string): AnsibleInventory {
  const text = readTextFile(file, 'Ansible inventory', 8 * 1024 * 1024);
  const inv: AnsibleInventory = { groups: new Map(), hosts: new Map(), unmapped: [] };
  group(inv, 'all');
  group(inv, 'ungrouped');
  if (looksLikeYaml(text)) readYaml(inv, text, file);
  else readIni(inv, text, file);
  // Every group Ansible knows hangs under all; hosts in no group are in ungrouped.
  const isChild = new Set([...inv.groups.values()].flatMap((g) => g.children));
  for (const name of inv.groups.keys())
    if (name !== 'all' && !isChild.has(name)) addUnique(group(inv, 'all').children, name);
  return inv;
}

function looksLikeYaml(text: string): boolean {
  const first = text.split('\n').find((l) => l.trim() !== '' && !/^\s*[#;]/.test(l) && l.trim() !== '---');
  return first !== undefined && /^[A-Za-z0-9_.-]+:\s*(#.*)?$/.test(first.trimEnd());
}

function group(inv: AnsibleInventory, name: string): AnsibleGroup {
  let g = inv.groups.get(name);
  if (!g) inv.groups.set(name, (g = { vars: {}, children: [], hosts: [] }));
  return g;
}

function addUnique(list: string[], item: string): void {
  if (!list.includes(item)) list.push(item);
}

function addHost(inv: AnsibleInventory, groupName: string, host: string, vars: Vars, where: string): void {
  if (RANGE.test(host)) {
    inv.unmapped.push(`${where}: host range "${host}" is not expanded: list each host by name`);
    return;
  }
  addUnique(group(inv, groupName).hosts, host);
  inv.hosts.set(host, { ...inv.hosts.get(host), ...vars });
}

/** Host-line values are typed like Python literals in Ansible; YAML typing is the nearest here. */
function typed(value: string): unknown {
  try {
    const v: unknown = parse(value);
    return v ?? value;
  } catch {
    return value;
  }
}

/** Splits `web1 ansible_host=10.0.0.2 note="a b"` into words, honouring quotes. */
function words(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | undefined;
  let started = false;
  for (const ch of line) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      started = true;
    } else if (/\s/.test(ch)) {
      if (started || cur !== '') out.push(cur);
      cur = '';
      started = false;
    } else cur += ch;
  }
  if (started || cur !== '') out.push(cur);
  return out;
}

function readIni(inv: AnsibleInventory, text: string, file: string): void {
  let section: { name: string; kind: 'hosts' | 'vars' | 'children' } = { name: 'ungrouped', kind: 'hosts' };
  text.split(/\r?\n/).forEach((raw, i) => {
    const where = `${file}:${i + 1}`;
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const header = /^\[([^\]:]+)(?::(\w+))?\]$/.exec(line);
    if (header?.[1]) {
      const kind = header[2] ?? 'hosts';
      if (kind !== 'hosts' && kind !== 'vars' && kind !== 'children') {
        inv.unmapped.push(`${where}: section [${header[1]}:${kind}] is not an Ansible section: skipped`);
        section = { name: header[1], kind: 'vars' };
        return;
      }
      section = { name: header[1], kind: kind === 'hosts' ? 'hosts' : kind };
      group(inv, section.name);
      return;
    }
    if (section.kind === 'children') {
      addUnique(group(inv, section.name).children, line);
      group(inv, line);
      return;
    }
    if (section.kind === 'vars') {
      const eq = line.indexOf('=');
      if (eq < 0) {
        inv.unmapped.push(`${where}: "${line}" is not name=value: skipped`);
        return;
      }
      // Ansible keeps [group:vars] values as strings.
      group(inv, section.name).vars[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
      return;
    }
    // A word starting with # ends the line (Ansible's inline comment).
    const all = words(line);
    const comment = all.findIndex((w) => w.startsWith('#'));
    const [first, ...rest] = comment < 0 ? all : all.slice(0, comment);
    if (first === undefined) return;
    // host:port, Ansible's INI shorthand for ansible_port (not an IPv6 address: one colon only).
    const hostPort = /^([^:]+):(\d+)$/.exec(first);
    const host = hostPort?.[1] ?? first;
    const vars: Vars = hostPort?.[2] ? { ansible_port: Number(hostPort[2]) } : {};
    for (const w of rest) {
      const eq = w.indexOf('=');
      if (eq < 0) inv.unmapped.push(`${where}: "${w}" after host ${host} is not name=value: skipped`);
      else vars[w.slice(0, eq)] = typed(w.slice(eq + 1));
    }
    addHost(inv, section.name, host, vars, where);
  });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function readYaml(inv: AnsibleInventory, text: string, file: string): void {
  let data: unknown;
  try {
    data = parse(text);
  } catch (err) {
    throw new ConfigError([
      { file, message: `not an Ansible inventory (YAML): ${(err as Error).message.split('\n')[0] ?? ''}` },
    ]);
  }
  if (!isRecord(data))
    throw new ConfigError([{ file, message: 'not an Ansible inventory: expected groups at the top' }]);
  const walk = (name: string, node: unknown, path: string): void => {
    const g = group(inv, name);
    if (node === null || node === undefined) return;
    if (!isRecord(node)) {
      inv.unmapped.push(`${file}: ${path}: not a group (hosts:, vars:, children:): skipped`);
      return;
    }
    for (const key of Object.keys(node))
      if (!['hosts', 'vars', 'children'].includes(key))
        inv.unmapped.push(`${file}: ${path}.${key}: not an Ansible group key: skipped`);
    if (isRecord(node['vars'])) Object.assign(g.vars, node['vars']);
    if (isRecord(node['hosts']))
      for (const [h, v] of Object.entries(node['hosts']))
        addHost(inv, name, h, isRecord(v) ? v : {}, `${file}: ${path}.hosts`);
    if (isRecord(node['children']))
      for (const [child, v] of Object.entries(node['children'])) {
        addUnique(g.children, child);
        walk(child, v, `${path}.children.${child}`);
      }
  };
  for (const [name, node] of Object.entries(data)) walk(name, node, name);
}

/**
 * Ansible's group depth (all is 0, its children 1, theirs 2...; the longest path counts): groups
 * of one host are applied by depth, then by name, so a child overrides its parent.
 */
export function groupDepths(inv: AnsibleInventory): Map<string, number> {
  const depth = new Map<string, number>([['all', 0]]);
  const visit = (name: string, d: number, seen: Set<string>): void => {
    if (seen.has(name)) return;
    if ((depth.get(name) ?? -1) < d) depth.set(name, d);
    for (const c of inv.groups.get(name)?.children ?? []) visit(c, d + 1, new Set([...seen, name]));
  };
  visit('all', 0, new Set());
  return depth;
}

/** The groups a host is in, directly or through children, in Ansible's order of application (all first). */
export function hostGroups(inv: AnsibleInventory, host: string): string[] {
  const depth = groupDepths(inv);
  const parents = new Map<string, string[]>();
  for (const [name, g] of inv.groups) for (const c of g.children) parents.set(c, [...(parents.get(c) ?? []), name]);
  const found = new Set<string>();
  const up = (name: string): void => {
    if (found.has(name)) return;
    found.add(name);
    for (const p of parents.get(name) ?? []) up(p);
  };
  for (const [name, g] of inv.groups) if (g.hosts.includes(host)) up(name);
  found.add('all');
  return [...found].sort((a, b) => (depth.get(a) ?? 0) - (depth.get(b) ?? 0) || (a < b ? -1 : a > b ? 1 : 0));
}
