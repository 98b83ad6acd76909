import { z } from 'zod';
import { backupStatusFact } from '../facts/backup-status.js';
import { noop, problem, type PlanResult } from './change.js';
import { absolutePath } from './common.js';
import { defineModule, type TaskContext } from './module.js';

const args = z
  .strictObject({
    status: absolutePath.describe(
      "the backup job's last-run record (result=ok|failed, id=, finished=<epoch>, message=)",
    ),
    unit: z
      .string()
      .regex(/^[A-Za-z0-9@_.:-]+\.service$/, 'a systemd service name')
      .describe('the backup job (its failed state counts too)'),
    max_age_hours: z
      .number()
      .positive()
      .default(26)
      .describe('the newest backup may be this old (a nightly job: a day and a margin)'),
  })
  .describe(
    'watches a backup job: its last run failed, or its newest backup is too old, is a problem (drift exits 2); it changes nothing',
  );

type Args = z.infer<typeof args>;

function hours(seconds: number): string {
  return `${(seconds / 3600).toFixed(1)} h`;
}

export const backupStatusModule = defineModule<Args>({
  name: 'backup_status',
  description:
    'Watches a backup job through its last-run record: a failed run or a backup older than max_age_hours is a problem, with the journal command and the on-demand backup to run. Changes nothing.',
  args,
  facts: (a) => [backupStatusFact(a.status, a.unit)],
  plan(a, facts, ctx: TaskContext): PlanResult {
    const s = facts.get(backupStatusFact(a.status, a.unit));
    const env = typeof ctx.vars['env'] === 'string' ? ctx.vars['env'] : '<env>';
    const fix = `read its log (journalctl -u ${a.unit} on ${ctx.host}), fix the cause, then take one: kanka-infra db backup ${env}`;
    const r = s.record;
    if (!r)
      return s.unitFailed
        ? problem(`the backup job ${a.unit} failed before recording any result`, fix)
        : noop('no backup yet (the job has not run here)');
    const finished = Number(r['finished'] ?? 0);
    const when = finished > 0 ? `${hours(s.now - finished)} ago` : 'at an unknown time';
    if (r['result'] !== 'ok')
      return problem(`the last backup failed ${when}: ${r['message'] || 'no message recorded'}`, fix);
    if (s.unitFailed)
      return problem(
        `the backup job ${a.unit} is in the failed state (its last run after backup ${r['id'] ?? '?'} failed)`,
        fix,
      );
    if (s.now - finished > a.max_age_hours * 3600)
      return problem(
        `the newest backup (${r['id'] ?? '?'}) is ${hours(s.now - finished)} old: more than ${a.max_age_hours} h`,
        `check its timer (systemctl list-timers on ${ctx.host}); ${fix}`,
      );
    return noop(`last backup ${r['id'] ?? '?'} ${when}`);
  },
});
