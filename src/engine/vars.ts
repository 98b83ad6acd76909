import type { Host, Inventory, Play, Role, Vars } from '../config/model.js';

export { RESERVED_VARS } from '../config/reserved-vars.js';

/** Precedence, lowest first: role defaults < play vars < env vars < group vars < host vars. */
export function hostVars(inventory: Inventory, host: Host, play: Play, roles: Role[]): Vars {
  const groupVars = host.groups.map((g) => inventory.groups.get(g)?.vars ?? {});
  return Object.assign({}, ...roles.map((r) => r.defaults), play.vars, inventory.vars, ...groupVars, host.vars) as Vars;
}

/** What every template and argument can see besides the variables: the whole inventory (built once per run). */
export function inventoryContext(inventory: Inventory): Vars {
  const groups: Record<string, string[]> = {};
  for (const h of inventory.hosts) for (const g of h.groups) (groups[g] ??= []).push(h.name);
  const hosts: Record<string, Vars> = {};
  for (const h of inventory.hosts) hosts[h.name] = { name: h.name, address: h.address, groups: h.groups, vars: h.vars };
  return { env: inventory.name, hosts, groups };
}

/** `host` in templates and arguments: the host a task runs on. */
export function hostContext(host: Host): Vars {
  return { host: { name: host.name, address: host.address, port: host.port, groups: host.groups } };
}
