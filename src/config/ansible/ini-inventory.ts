import { expandHostPattern } from './host-range.js';
import { groupOf, type AnsibleInventory } from './model.js';
import { pythonLiteral } from './python-literal.js';

/** Splits a host line like Python's shlex(comments=True): quotes group words, `#` starts a comment. */
export function shellWords(line: string): string[] | undefined {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] ?? '';
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) cur += line[++i] ?? '';
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '#') break;
    else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else if (c === '\\' && i + 1 < line.length) {
      cur += line[++i] ?? '';
      inWord = true;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) return undefined;
  if (inWord) words.push(cur);
  return words;
}

/** Reads an Ansible INI inventory: [group], [group:vars], [group:children], hosts with key=value vars. */
export function parseIniInventory(text: string, file: string): AnsibleInventory {
  const inv: AnsibleInventory = { file, groups: new Map(), hostLines: new Map(), unmapped: [] };
  groupOf(inv, 'all');
  let group = 'ungrouped';
  let kind: 'hosts' | 'vars' | 'children' = 'hosts';
  const report = (line: number, where: string, what: string, hint?: string): void => {
    inv.unmapped.push({ file, line, where, what, ...(hint ? { hint } : {}) });
  };

  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const t = raw.trim();
    if (t === '' || t.startsWith('#') || t.startsWith(';')) return;
    const section = /^\[([^\]:]+)(?::(\w+))?\]\s*([#;].*)?$/.exec(t);
    if (section) {
      group = section[1]?.trim() ?? '';
      const k = section[2] ?? 'hosts';
      if (k !== 'hosts' && k !== 'vars' && k !== 'children') {
        report(line, t, `section kind ":${k}" is not an Ansible one`);
        kind = 'vars';
        return;
      }
      kind = k;
      groupOf(inv, group, line);
      return;
    }
    if (kind === 'vars') {
      const eq = t.indexOf('=');
      if (eq < 0) return report(line, `[${group}:vars]`, `"${t}" is not key=value: not read`);
      const key = t.slice(0, eq).trim();
      const v = pythonLiteral(t.slice(eq + 1).trim());
      if (!v.literal)
        report(line, `[${group}:vars] ${key}`, 'a Python list or dict literal that is not JSON: kept as text');
      groupOf(inv, group).vars[key] = v.value;
      return;
    }
    if (kind === 'children') {
      const child = shellWords(t)?.[0] ?? t;
      groupOf(inv, group).children.add(child);
      groupOf(inv, child, line);
      return;
    }
    const words = shellWords(t);
    if (!words || words.length === 0) return report(line, `[${group}]`, `unbalanced quotes in "${t}": not read`);
    const [pattern = '', ...assignments] = words;
    const vars: Record<string, unknown> = {};
    for (const a of assignments) {
      const eq = a.indexOf('=');
      if (eq <= 0) {
        report(line, `[${group}] ${pattern}`, `"${a}" is not key=value: not read`);
        continue;
      }
      const key = a.slice(0, eq);
      const v = pythonLiteral(a.slice(eq + 1));
      if (!v.literal)
        report(line, `[${group}] ${pattern} ${key}`, 'a Python list or dict literal that is not JSON: kept as text');
      vars[key] = v.value;
    }
    // host:port, as Ansible reads it (not for IPv6 addresses, which have more than one colon).
    const portMatch = /^([^:]+):(\d+)$/.exec(pattern);
    const names = expandHostPattern(portMatch ? (portMatch[1] ?? '') : pattern);
    if (!names) return report(line, `[${group}] ${pattern}`, 'a host range that cannot be expanded: host not read');
    if (portMatch) vars['ansible_port'] = Number(portMatch[2]);
    const g = groupOf(inv, group, line);
    for (const name of names) {
      g.hosts.set(name, { ...(g.hosts.get(name) ?? {}), ...vars });
      if (!inv.hostLines.has(name)) inv.hostLines.set(name, line);
    }
  });
  return inv;
}
