import { dirname, join, resolve } from 'node:path';
import { ConfigError, lineOf, type Diagnostic } from '../diagnostics/diagnostic.js';
import { resolveHostPattern } from './host-pattern.js';
import { loadInventory, resolveFrom } from './load-inventory.js';
import { loadPlaybook } from './load-playbook.js';
import { loadRole } from './load-role.js';
import { pathKind } from './path-kind.js';
import type { Project, Role, Vars } from './model.js';
import { resolveInventoryFile } from './resolve-env.js';

export interface LoadOptions {
  /** The environment: a name (inventory/<env>.yml) or a path. */
  env: string;
  /** Directory holding inventory/, playbooks/ and roles/ (default: the current directory). */
  projectDir?: string;
  /** Playbook file; default: the inventory's `playbook:` key, else playbooks/site.yml. */
  playbook?: string;
  /** -e variables, already read: above every other variable. */
  extraVars?: Vars;
  /** Hosts about to be added (add-host): their host_vars files are expected. */
  newHosts?: string[];
}

/** Loads and cross-checks inventory, playbook and roles; throws ConfigError with every problem found. */
export function loadProject(opts: LoadOptions): Project {
  const projectDir = resolve(opts.projectDir ?? process.cwd());
  const inventoryFile = resolveInventoryFile(opts.env, projectDir);
  const inventory = loadInventory(inventoryFile, opts.newHosts ? { newHosts: opts.newHosts } : {});
  const playbookFile = opts.playbook
    ? resolve(opts.playbook)
    : inventory.playbook
      ? resolveFrom(inventory.dir, inventory.playbook)
      : join(projectDir, 'playbooks', 'site.yml');
  const plays = loadPlaybook(playbookFile);
  const diagnostics: Diagnostic[] = [];
  const rolesDir = findRolesDir(playbookFile, projectDir);
  const roles = new Map<string, Role>();
  for (const play of plays) {
    const { unknown } = resolveHostPattern(play.hosts, inventory);
    for (const name of unknown) {
      diagnostics.push({
        file: playbookFile,
        path: [...play.source.path, 'hosts'],
        ...lineOf(play.source),
        message: `no group or host named "${name}" in ${inventory.file}`,
        hint: `groups: ${[...new Set(inventory.hosts.flatMap((h) => h.groups))].join(', ') || '(none)'}`,
      });
    }
    for (const roleName of play.roles) {
      if (roles.has(roleName)) continue;
      const role = loadRole(roleName, rolesDir, diagnostics);
      if (role) roles.set(roleName, role);
    }
  }
  checkNotify(roles, diagnostics);
  if (diagnostics.length > 0) throw new ConfigError(diagnostics);
  return { inventory, playbookFile, plays, roles, ...(opts.extraVars ? { extraVars: opts.extraVars } : {}) };
}

/** Roles live in roles/ beside the playbook's folder (playbooks/../roles), or in the project. */
function findRolesDir(playbookFile: string, projectDir: string): string {
  const candidates = [
    join(dirname(playbookFile), 'roles'),
    join(dirname(playbookFile), '..', 'roles'),
    join(projectDir, 'roles'),
  ];
  return resolve(
    candidates.find((c) => pathKind(c, 'the roles directory') === 'directory') ?? join(projectDir, 'roles'),
  );
}

function checkNotify(roles: Map<string, Role>, diagnostics: Diagnostic[]): void {
  const handlerNames = new Set([...roles.values()].flatMap((r) => r.handlers.map((h) => h.name)));
  for (const role of roles.values()) {
    for (const task of role.tasks) {
      for (const n of task.notify) {
        if (handlerNames.has(n)) continue;
        diagnostics.push({
          file: task.source.file,
          path: [task.source.path[0] ?? 0, 'notify'],
          ...lineOf(task.source),
          message: `notifies "${n}", but no role in this playbook has a handler with that name`,
          hint: `handlers of role ${role.name}: ${role.handlers.map((h) => h.name).join(', ') || '(none; add handlers.yml)'}`,
        });
      }
    }
  }
}
