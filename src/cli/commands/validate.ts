import { EXIT, type ExitCode } from '../exit-codes.js';
import { write, type Io } from '../io.js';
import { loadAndCompile, SECRETS_NOT_CHECKED_NOTE } from '../load.js';
import type { ProjectOptions } from '../options.js';
import { allTasks } from '../../engine/program.js';
import { checkSshAuth } from '../ssh-auth.js';
import { securityWarnings } from '../security-warnings.js';
import { cliVersion } from '../version.js';
import { describeScope } from '../../config/vars-files.js';
import { renderTaskList, taskList } from '../../output/task-list.js';

export interface ValidateCliOptions extends ProjectOptions {
  /** List what the selection would run, per play and host. */
  listTasks?: boolean;
}

const count = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Offline check of inventory, playbook, roles and every task's arguments for every host. */
export function validateCommand(env: string, opts: ValidateCliOptions, io: Io): ExitCode {
  const { project, programs, secretsChecked } = loadAndCompile(env, opts, io, { passwordOptional: true });
  const tasks = programs.reduce((n, p) => n + allTasks(p).length, 0);
  const groups = new Set(project.inventory.hosts.flatMap((h) => h.groups));
  // The SSH key must exist and parse; what could not be checked offline is said, not hidden.
  const notes = [...checkSshAuth(project.inventory, io.cwd), ...(secretsChecked ? [] : [SECRETS_NOT_CHECKED_NOTE])];
  // Valid, but not what production should run with: said, without failing the check.
  const warnings = securityWarnings(project, programs);
  const varsFiles = (project.inventory.varsFiles ?? []).map((f) => ({
    file: f.file,
    for: describeScope(f.scope),
    encrypted: f.encrypted,
  }));
  const extraVars = Object.keys(project.extraVars ?? {});
  if (opts.json) {
    write(
      io.stdout,
      JSON.stringify(
        {
          version: cliVersion(),
          valid: true,
          env: project.inventory.name,
          inventory: project.inventory.file,
          playbook: project.playbookFile,
          hosts: programs.length,
          groups: groups.size,
          roles: project.roles.size,
          tasks,
          varsFiles,
          extraVars,
          diagnostics: [],
          secretsChecked,
          notes,
          warnings,
          ...(opts.listTasks ? { plays: taskList(programs) } : {}),
        },
        null,
        2,
      ),
    );
  } else {
    if (opts.listTasks) write(io.stdout, `${renderTaskList(taskList(programs))}\n`);
    write(
      io.stdout,
      `${project.inventory.file}: valid (${count(project.inventory.hosts.length, 'host')}, ${count(groups.size, 'group')})\n` +
        varsFiles
          .map((f) => `${f.file}: valid (variables for ${f.for}${f.encrypted ? ', encrypted' : ''})\n`)
          .join('') +
        `${project.playbookFile}: valid (${count(project.plays.length, 'play')}, ${count(project.roles.size, 'role')}, ${count(tasks, 'task')} on ${count(programs.length, 'host')})` +
        (extraVars.length > 0 ? `\n-e: ${extraVars.join(', ')} (above every other variable)` : '') +
        notes.map((n) => `\nnote: ${n}`).join('') +
        warnings.map((w) => `\nwarning: ${w}`).join(''),
    );
  }
  return EXIT.OK;
}
