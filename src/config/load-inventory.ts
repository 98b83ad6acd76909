import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { ConfigError } from '../diagnostics/diagnostic.js';
import type { Host, Inventory } from './model.js';
import { inventorySchema } from './schema/inventory.js';
import { loadYamlFile } from './yaml-file.js';
import { validateWith } from './zod-diagnostics.js';

export function resolveFrom(dir: string, p: string): string {
  if (p.startsWith('~/')) return resolve(homedir(), p.slice(2));
  return isAbsolute(p) ? p : resolve(dir, p);
}

export function loadInventory(file: string): Inventory {
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
    ...(data.secrets ? { secretsFile: resolveFrom(dir, data.secrets) } : {}),
    ...(data.playbook ? { playbook: data.playbook } : {}),
    ...(data.vault_password_file ? { vaultPasswordFile: resolveFrom(dir, data.vault_password_file) } : {}),
  };
}
