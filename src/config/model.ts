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

export interface Inventory {
  name: string;
  file: string;
  dir: string;
  ssh: SshSettings & { known_hosts: string };
  vars: Vars;
  groups: Map<string, { vars: Vars }>;
  hosts: Host[];
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
}
