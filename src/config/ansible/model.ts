/** An Ansible inventory as read, before it is mapped: groups with their own hosts, vars and children. */
export interface AnsibleGroup {
  /** Hosts listed directly under the group, with the vars given on that line or mapping. */
  readonly hosts: Map<string, Record<string, unknown>>;
  readonly vars: Record<string, unknown>;
  readonly children: Set<string>;
  /** Where the group is first declared (for the report). */
  readonly line?: number;
}

export interface AnsibleInventory {
  readonly file: string;
  /** Every group by name, `all` included (it holds the hosts listed outside any group). */
  readonly groups: Map<string, AnsibleGroup>;
  /** The line where each host is first named. */
  readonly hostLines: Map<string, number>;
  /** What could not be read or mapped, found while reading. */
  readonly unmapped: UnmappedFeature[];
}

/** An Ansible feature with no kanka-infra form: reported, never dropped silently. */
export interface UnmappedFeature {
  readonly file: string;
  readonly line?: number;
  /** Key path or INI section where it is. */
  readonly where: string;
  readonly what: string;
  readonly hint?: string;
}

export function emptyGroup(line?: number): AnsibleGroup {
  return { hosts: new Map(), vars: {}, children: new Set(), ...(line !== undefined ? { line } : {}) };
}

export function groupOf(inv: { groups: Map<string, AnsibleGroup> }, name: string, line?: number): AnsibleGroup {
  let g = inv.groups.get(name);
  if (!g) {
    g = emptyGroup(line);
    inv.groups.set(name, g);
  }
  return g;
}
