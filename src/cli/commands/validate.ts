import { EXIT, type ExitCode } from '../exit-codes.js';
import { write, type Io } from '../io.js';
import { loadAndCompile } from '../load.js';
import type { ProjectOptions } from '../options.js';
import { allTasks } from '../../engine/program.js';

/** Offline check of inventory, playbook, roles and every task's arguments for every host. */
export function validateCommand(env: string, opts: ProjectOptions, io: Io): ExitCode {
  const { project, programs } = loadAndCompile(env, opts, io);
  const tasks = programs.reduce((n, p) => n + allTasks(p).length, 0);
  const groups = new Set(project.inventory.hosts.flatMap((h) => h.groups));
  if (opts.json) {
    write(io.stdout, JSON.stringify({ valid: true, env: project.inventory.name, inventory: project.inventory.file, playbook: project.playbookFile, hosts: programs.length, groups: groups.size, roles: project.roles.size, tasks, diagnostics: [] }, null, 2));
  } else {
    write(
      io.stdout,
      `${project.inventory.file}: valid (${project.inventory.hosts.length} hosts, ${groups.size} groups)\n` +
        `${project.playbookFile}: valid (${project.plays.length} plays, ${project.roles.size} roles, ${tasks} tasks on ${programs.length} hosts)`,
    );
  }
  return EXIT.OK;
}
