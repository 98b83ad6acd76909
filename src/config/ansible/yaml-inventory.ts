import { formatKeyPath } from '../../diagnostics/diagnostic.js';
import { parseYaml } from '../yaml-file.js';
import { expandHostPattern } from './host-range.js';
import { groupOf, type AnsibleInventory } from './model.js';

const isMapping = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads an Ansible YAML inventory: top-level groups (usually `all`) with hosts, vars and children. */
export function parseYamlInventory(text: string, file: string): AnsibleInventory {
  const yaml = parseYaml(text, file);
  const inv: AnsibleInventory = { file, groups: new Map(), hostLines: new Map(), unmapped: [] };
  groupOf(inv, 'all');
  const report = (path: Array<string | number>, what: string): void => {
    inv.unmapped.push({ file, ...lineAt(path), where: formatKeyPath(path), what });
  };
  const lineAt = (path: Array<string | number>) => {
    const at = yaml.locate(path);
    return at ? { line: at.line } : {};
  };

  const readGroup = (name: string, body: unknown, path: Array<string | number>): void => {
    const g = groupOf(inv, name, yaml.locate(path)?.line);
    if (body === null || body === undefined) return;
    if (!isMapping(body)) return report(path, 'a group must be a mapping (hosts, vars, children): not read');
    for (const [key, value] of Object.entries(body)) {
      const at = [...path, key];
      if (key === 'vars') {
        if (value === null) continue;
        if (!isMapping(value)) report(at, 'vars must be a mapping: not read');
        else Object.assign(g.vars, value);
      } else if (key === 'hosts') {
        if (value === null) continue;
        if (!isMapping(value)) {
          report(at, 'hosts must be a mapping of host names: not read');
          continue;
        }
        for (const [pattern, hostVars] of Object.entries(value)) {
          const names = expandHostPattern(pattern);
          if (!names) report([...at, pattern], 'a host range that cannot be expanded: host not read');
          else if (hostVars !== null && !isMapping(hostVars))
            report([...at, pattern], 'host vars must be a mapping: not read');
          else
            for (const n of names) {
              g.hosts.set(n, { ...(g.hosts.get(n) ?? {}), ...(hostVars ?? {}) });
              const line = yaml.locate([...at, pattern])?.line;
              if (line !== undefined && !inv.hostLines.has(n)) inv.hostLines.set(n, line);
            }
        }
      } else if (key === 'children') {
        if (value === null) continue;
        if (!isMapping(value)) {
          report(at, 'children must be a mapping of group names: not read');
          continue;
        }
        for (const [child, childBody] of Object.entries(value)) {
          g.children.add(child);
          readGroup(child, childBody, [...at, child]);
        }
      } else report(at, `"${key}" is not hosts, vars or children: not read`);
    }
  };

  const data = yaml.data;
  if (data === null || data === undefined) return inv;
  if (!isMapping(data)) {
    report([], 'the inventory must be a mapping of groups (all: ...): nothing read');
    return inv;
  }
  for (const [name, body] of Object.entries(data)) {
    readGroup(name, body, [name]);
    if (name !== 'all') groupOf(inv, 'all').children.add(name);
  }
  return inv;
}
