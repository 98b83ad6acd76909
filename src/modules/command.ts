import { z } from 'zod';
import { commandSucceedsFact } from '../facts/command-status.js';
import { roleShellText } from '../values/values.js';
import { fileFact } from '../facts/file.js';
import { roleShell } from '../shell/role-shell.js';
import { changes, noop } from './change.js';
import { absolutePath } from './common.js';
import { defineModule } from './module.js';

const args = z
  .strictObject({
    run: roleShellText.describe('shell command (POSIX sh) run on the host'),
    creates: absolutePath.optional().describe('skip when this path exists'),
    unless: roleShellText.optional().describe('skip when this command exits 0'),
    cwd: absolutePath.optional().describe('directory to run in'),
    always: z
      .boolean()
      .default(false)
      .describe('run on every apply (a change every time); otherwise creates or unless is required'),
  })
  .refine((a) => a.always || a.creates !== undefined || a.unless !== undefined, {
    message:
      'a command needs `creates` or `unless` so it runs only when needed (or `always: true` to run it on every apply)',
  })
  .describe('a shell command, made idempotent by a guard');

type CommandArgs = z.infer<typeof args>;

export const commandModule = defineModule<CommandArgs>({
  name: 'command',
  description: 'Run a shell command when its guard says it is needed (`creates`, `unless`), or always.',
  args,
  facts: (a) => [
    ...(a.creates !== undefined ? [fileFact(a.creates)] : []),
    ...(a.unless !== undefined ? [commandSucceedsFact(roleShell(a.unless))] : []),
  ],
  plan(a, facts) {
    if (a.creates !== undefined && facts.get(fileFact(a.creates)).type !== 'absent') return noop(`${a.creates} exists`);
    if (a.unless !== undefined && facts.get(commandSucceedsFact(roleShell(a.unless))))
      return noop(`guard succeeded: ${a.unless}`);
    const why = a.always
      ? 'runs on every apply'
      : a.creates !== undefined
        ? `${a.creates} does not exist`
        : `guard failed: ${a.unless ?? ''}`;
    return changes({
      action: 'run',
      subject: a.run,
      details: [why],
      ops: [{ op: 'exec', command: roleShell(a.run), ...(a.cwd ? { cwd: a.cwd } : {}) }],
    });
  },
});
