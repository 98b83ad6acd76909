import { z } from 'zod';
import { roleShellText } from '../values/values.js';
import { checkFact } from '../facts/check.js';
import { roleShell } from '../shell/role-shell.js';
import { noop, PlanError } from './change.js';
import { defineModule } from './module.js';

const args = z
  .strictObject({
    command: roleShellText.describe(
      'shell command that exits 0 when all is well (e.g. curl -fsk https://127.0.0.1/healthz)',
    ),
    retries: z.number().int().positive().default(10).describe('tries before the check fails'),
    delay: z.number().positive().default(1).describe('seconds between tries'),
  })
  .describe('a health check: changes nothing; fails the host (stopping a serial play) when it does not pass');

type CheckArgs = z.infer<typeof args>;

export const checkModule = defineModule<CheckArgs>({
  name: 'check',
  description:
    'A health check run on the host after the tasks before it; it changes nothing, and a failure stops the host (and the next batches of a serial play).',
  args,
  atItsTurn: true,
  // A plan only looks (one try); apply waits for the check to pass.
  facts: (a, ctx) => [checkFact(roleShell(a.command), ctx.planning ? 1 : a.retries, a.delay)],
  plan(a, facts, ctx) {
    const r = facts.get(checkFact(roleShell(a.command), ctx.planning ? 1 : a.retries, a.delay));
    if (r.passed) return noop(`check passed${r.tries > 1 ? ` after ${r.tries} tries` : ''}: ${a.command}`);
    throw new PlanError(`check failed after ${r.tries} tries: ${a.command}${r.output ? `\n${r.output}` : ''}`);
  },
});
