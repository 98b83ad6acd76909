import type { SshSettings } from './schema/inventory.js';

/** Loaded, validated configuration: what the engine works from. Paths are absolute. */
export type Vars = Record<string, unknown>;

export interface Host {
  name: string;
  address: string;
  port: number;
  user: string;
  groups: string[];
  vars: Vars;
}

/** Whose variables a vars file holds: every host (group_vars/all), one group, or one host. */
export type VarsScope = { kind: 'all' } | { kind: 'group'; name: string } | { kind: 'host'; name: string };

/** A group_vars/ or host_vars/ file beside the inventory (absolute path). */
export interface VarsFile {
  file: string;
  scope: VarsScope;
  /** ansible-vault encrypted: its values are `Secret`s. */
  encrypted: boolean;
  /** Undefined while an encrypted file is not opened (no password asked for yet). */
  vars?: Vars;
}

export interface Inventory {
  name: string;
  file: string;
  dir: string;
  ssh: SshSettings & { known_hosts: string };
  vars: Vars;
  groups: Map<string, { vars: Vars }>;
  hosts: Host[];
  /** group_vars/ and host_vars/ files, in the order they were read. */
  varsFiles?: VarsFile[];
  secretsFile?: string;
  /** Where the secrets password is, if the inventory says (absolute). */
  vaultPasswordFile?: string;
  /** The inventory's own `playbook:` key, as written. */
  playbook?: string;
}

/** Where a task came from, for messages: file and key path. */
export interface SourceRef {
  file: string;
  path: ReadonlyArray<string | number>;
  line?: number;
}

export interface TaskDef {
  name: string;
  module: string;
  /** Raw arguments: strings may still contain {{ variables }}. */
  args: unknown;
  notify: string[];
  tags: string[];
  /** Condition (a Handlebars sub-expression), evaluated per host at compile time. */
  when?: string;
  /** A list, or a "{{ variable }}" naming one: the task is repeated with {{ item }}. */
  loop?: string | unknown[];
  /** Hide arguments, diff and output in every report (values from the vault are hidden anyway). */
  sensitive?: boolean;
  source: SourceRef;
}

export interface Role {
  name: string;
  dir: string;
  defaults: Vars;
  tasks: TaskDef[];
  handlers: TaskDef[];
}

export interface Play {
  name: string;
  hosts: string;
  roles: string[];
  serial?: number;
  tags: string[];
  vars: Vars;
  source: SourceRef;
}

export interface Project {
  inventory: Inventory;
  playbookFile: string;
  plays: Play[];
  roles: Map<string, Role>;
  /** -e on the command line: above every other variable. */
  extraVars?: Vars;
}
