import { scopeVars } from '../config/vars-files.js';
import type { Host, Inventory, Play, Role, Vars } from '../config/model.js';

export { RESERVED_VARS } from '../config/reserved-vars.js';

/**
 * Precedence, lowest first: role defaults < play vars < env vars (vars:, group_vars/all) < group
 * vars (in the order of the host's groups) < host vars < extra vars (-e). At each level the
 * inventory's inline variables and the vars files for it never share a key (load-inventory refuses).
 */
export function hostVars(inventory: Inventory, host: Host, play: Play, roles: Role[], extraVars: Vars = {}): Vars {
  const groupVars = host.groups.map((g) => scopeVars(inventory, { kind: 'group', name: g }));
  return Object.assign(
    {},
    ...roles.map((r) => r.defaults),
    play.vars,
    scopeVars(inventory, { kind: 'all' }),
    ...groupVars,
    scopeVars(inventory, { kind: 'host', name: host.name }),
    extraVars,
  ) as Vars;
}

/** What every template and argument can see besides the variables: the whole inventory (built once per run). */
export function inventoryContext(inventory: Inventory): Vars {
  const groups: Record<string, string[]> = {};
  for (const h of inventory.hosts) for (const g of h.groups) (groups[g] ??= []).push(h.name);
  const hosts: Record<string, Vars> = {};
  for (const h of inventory.hosts)
    hosts[h.name] = {
      name: h.name,
      address: h.address,
      groups: h.groups,
      vars: scopeVars(inventory, { kind: 'host', name: h.name }),
    };
  return { env: inventory.name, hosts, groups };
}

/** `host` in templates and arguments: the host a task runs on. */
export function hostContext(host: Host): Vars {
  return { host: { name: host.name, address: host.address, port: host.port, groups: host.groups } };
}
