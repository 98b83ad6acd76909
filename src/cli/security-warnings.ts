import { networksContain, parseNetwork, type Network } from '../values/cidr.js';
import type { Project } from '../config/model.js';
import { scopeVars } from '../config/vars-files.js';
import { allTasks, type HostProgram } from '../engine/program.js';

/** Inventory names taken as production when their vars do not say (`production: true|false` does). */
const PRODUCTION_NAMES = new Set(['prod', 'production']);

export function isProduction(project: Project): boolean {
  // The env level: the inventory's vars: and group_vars/all.
  const said = scopeVars(project.inventory, { kind: 'all' })['production'];
  return typeof said === 'boolean' ? said : PRODUCTION_NAMES.has(project.inventory.name);
}

/** Each host's ssh_allowed_networks as its tasks see it (role defaults < ... < host vars); hosts without it are left out. */
function allowedNetworks(programs: HostProgram[]): Map<string, Network[]> {
  const found = new Map<string, Network[]>();
  for (const program of programs) {
    const value: unknown[] | undefined = allTasks(program)
      .map((t) => t.context.vars['ssh_allowed_networks'])
      .find(Array.isArray);
    if (value === undefined) continue;
    // Already typed when the configuration was read (schema/common.ts): every entry parses.
    const parsed = value.map((v) => (typeof v === 'string' ? parseNetwork(v) : undefined));
    found.set(
      program.host.name,
      parsed.flatMap((p) => (p?.ok ? [p.network] : [])),
    );
  }
  return found;
}

const listed = (names: string[]) =>
  names.length > 6 ? `${names.slice(0, 5).join(', ')} and ${names.length - 5} more` : names.join(', ');

/**
 * What validate warns about (exit 0): SSH open to any address in a production inventory, and SSH
 * restricted to networks that leave out the jump host kanka-infra connects through.
 */
export function securityWarnings(project: Project, programs: HostProgram[]): string[] {
  const warnings: string[] = [];
  const networks = allowedNetworks(programs);
  const open = [...networks].filter(([, n]) => n.length === 0).map(([host]) => host);
  if (open.length > 0 && isProduction(project)) {
    warnings.push(
      `SSH is open to any address on ${open.length === 1 ? 'host' : `${open.length} hosts`} ${listed(open)} of the production inventory "${project.inventory.name}": ` +
        'set ssh_allowed_networks to the admin networks (role base, docs/roles.md)',
    );
  }
  const jump = project.inventory.ssh.jump?.address;
  if (jump !== undefined && parseNetwork(jump).ok) {
    const shut = [...networks].filter(([, n]) => n.length > 0 && !networksContain(n, jump)).map(([host]) => host);
    if (shut.length > 0) {
      warnings.push(
        `ssh_allowed_networks of ${listed(shut)} leaves out the jump host ${jump} kanka-infra connects through: once applied, the next run cannot connect`,
      );
    }
  }
  return warnings;
}
