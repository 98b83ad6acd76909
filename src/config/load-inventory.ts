import type { VaultSecret } from '../secrets/vault-id.js';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { ConfigError } from '../diagnostics/diagnostic.js';
import type { Host, Inventory, VarsScope } from './model.js';
import { inventorySchema, type InventoryFileData } from './schema/inventory.js';
import { loadVarsFiles, type InlineScopes } from './vars-files.js';
import { loadYamlFile, type YamlFile } from './yaml-file.js';
import { validateWith } from './zod-diagnostics.js';

export function resolveFrom(dir: string, p: string): string {
  if (p.startsWith('~/')) return resolve(homedir(), p.slice(2));
  return isAbsolute(p) ? p : resolve(dir, p);
}

export interface InventoryLoadOptions {
  /** Opens encrypted group_vars/host_vars files; without it their variables are not read. */
  vaultPassword?: string | readonly VaultSecret[];
  /** Hosts about to be added (add-host): their host_vars files are read rather than refused as unknown. */
  newHosts?: string[];
}

/**
 * Reads an inventory file and the group_vars/ and host_vars/ beside it. Throws a ConfigError with
 * every problem found.
 */
export function loadInventory(file: string, opts: InventoryLoadOptions = {}): Inventory {
  const yaml = loadYamlFile(file, 'inventory');
  const checked = validateWith(inventorySchema, yaml.data ?? {}, yaml);
  if (!checked.ok) throw new ConfigError(checked.diagnostics);
  const data = checked.value;
  const dir = dirname(file);
  const diagnostics: Diagnostic[] = [];
  const hosts: Host[] = Object.entries(data.hosts).map(([name, h]) => ({
    name,
    address: h.address,
    port: h.port ?? data.ssh.port,
    user: h.user ?? data.ssh.user,
    groups: h.groups,
    vars: h.vars,
  }));
  // Groups are declared, so a typo in a host's groups is caught instead of silently targeting nothing.
  for (const [name, h] of Object.entries(data.hosts)) {
    h.groups.forEach((g, i) => {
      if (data.groups[g] || g === 'all') return;
      diagnostics.push({
        file,
        path: ['hosts', name, 'groups', i],
        ...yaml.locate(['hosts', name, 'groups', i]),
        message: `group "${g}" is not declared`,
        hint: `declare it under groups: (${g}: {}), or fix the spelling; declared: ${Object.keys(data.groups).join(', ') || '(none)'}`,
      });
    });
  }
  if (data.groups['all']) {
    diagnostics.push({
      file,
      path: ['groups', 'all'],
      ...yaml.locate(['groups', 'all']),
      message: '"all" is the implicit group of every host',
      hint: 'put env-wide variables under the top-level vars: key',
    });
  }
  if (!data.ssh.key_file && !data.ssh.agent) {
    diagnostics.push({
      file,
      path: ['ssh'],
      ...yaml.locate(['ssh']),
      message: 'no way to authenticate: set ssh.key_file or ssh.agent: true',
    });
  }
  if (data.ssh.user !== 'root' && !data.ssh.sudo) {
    diagnostics.push({
      file,
      path: ['ssh', 'sudo'],
      ...yaml.locate(['ssh', 'user']),
      message: `ssh.user is "${data.ssh.user}" but ssh.sudo is not set`,
      hint: 'set ssh.sudo: true (the user needs passwordless sudo), or connect as root',
    });
  }
  if (diagnostics.length > 0) throw new ConfigError(diagnostics);
  const varsFiles = loadVarsFiles(dir, inlineScopes(file, data, yaml, opts.newHosts ?? []), opts.vaultPassword);
  const ssh = {
    ...data.ssh,
    known_hosts: resolveFrom(dir, data.ssh.known_hosts),
    ...(data.ssh.key_file ? { key_file: resolveFrom(dir, data.ssh.key_file) } : {}),
  };
  return {
    name: data.name ?? basename(file).replace(/\.ya?ml$/, ''),
    file,
    dir,
    ssh,
    vars: data.vars,
    groups: new Map(Object.entries(data.groups)),
    hosts,
    varsFiles,
    ...(data.secrets ? { secretsFile: resolveFrom(dir, data.secrets) } : {}),
    ...(data.playbook ? { playbook: data.playbook } : {}),
    ...(data.vault_password_file ? { vaultPasswordFile: resolveFrom(dir, data.vault_password_file) } : {}),
  };
}

/** The inventory's own variables per scope, and where each is written (for "also set in" messages). */
function inlineScopes(file: string, data: InventoryFileData, yaml: YamlFile, newHosts: string[]): InlineScopes {
  const pathOf = (scope: VarsScope): string[] =>
    scope.kind === 'all'
      ? ['vars']
      : scope.kind === 'group'
        ? ['groups', scope.name, 'vars']
        : ['hosts', scope.name, 'vars'];
  return {
    groups: Object.keys(data.groups),
    hosts: [...Object.keys(data.hosts), ...newHosts],
    vars: (scope) =>
      scope.kind === 'all'
        ? data.vars
        : scope.kind === 'group'
          ? (data.groups[scope.name]?.vars ?? {})
          : (data.hosts[scope.name]?.vars ?? {}),
    origin: (scope, key) => {
      const path = [...pathOf(scope), key];
      const pos = yaml.locate(path);
      return { file, path, ...(pos ? { line: pos.line } : {}) };
    },
  };
}
