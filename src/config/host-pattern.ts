import type { Inventory } from './model.js';

/**
 * Resolves an Ansible-style host pattern against the inventory, in inventory order.
 * "all"; a group or host name; "a:b" (union, also "a,b"); "!x" (exclude); "&x" (intersect);
 * a trailing "*" matches by prefix ("backend*"). Unknown names are reported, not ignored:
 * a typo must not silently target nothing.
 */
export function resolveHostPattern(pattern: string, inventory: Inventory): { hosts: string[]; unknown: string[] } {
  const all = inventory.hosts.map((h) => h.name);
  const groups = new Set<string>([...inventory.groups.keys(), ...inventory.hosts.flatMap((h) => h.groups)]);
  const unknown: string[] = [];
  const select = (term: string): Set<string> => {
    if (term === 'all' || term === '*') return new Set(all);
    if (term.endsWith('*')) {
      const prefix = term.slice(0, -1);
      const matched = inventory.hosts
        .filter((h) => h.name.startsWith(prefix) || h.groups.some((g) => g.startsWith(prefix)))
        .map((h) => h.name);
      if (matched.length === 0) unknown.push(term);
      return new Set(matched);
    }
    // A name may be both a group and a host (Kanka's thumbor host is in group thumbor): take both.
    if (groups.has(term) || all.includes(term)) {
      return new Set(inventory.hosts.filter((h) => h.name === term || h.groups.includes(term)).map((h) => h.name));
    }
    unknown.push(term);
    return new Set();
  };
  const terms = pattern
    .split(/[:,]/)
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
  let included = new Set<string>();
  const excluded = new Set<string>();
  const intersections: Set<string>[] = [];
  for (const term of terms) {
    if (term.startsWith('!')) select(term.slice(1)).forEach((h) => excluded.add(h));
    else if (term.startsWith('&')) intersections.push(select(term.slice(1)));
    else included = new Set([...included, ...select(term)]);
  }
  const hosts = all.filter((h) => included.has(h) && !excluded.has(h) && intersections.every((s) => s.has(h)));
  return { hosts, unknown };
}
