import { describe, expect, it } from 'vitest';
import { factReader } from '../../../src/facts/fact.js';
import { backupStatusFact } from '../../../src/facts/backup-status.js';
import { backupStatusModule } from '../../../src/modules/backup-status.js';
import type { PlanResult } from '../../../src/modules/change.js';
import type { TaskContext } from '../../../src/modules/module.js';

const args = backupStatusModule.args.parse({
  status: '/var/lib/kanka-infra/mariadb-backup.status',
  unit: 'kanka-mariadb-backup.service',
});
const fact = backupStatusFact('/var/lib/kanka-infra/mariadb-backup.status', 'kanka-mariadb-backup.service');
const ctx: TaskContext = {
  host: 'backend2',
  roleDir: '/nowhere',
  vars: { env: 'prod' },
  readRoleFile: () => Buffer.alloc(0),
};
const NOW = 1_800_000_000;

function plan(output: string): PlanResult {
  return backupStatusModule.plan(args, factReader(new Map([[fact.id, fact.parse(output)]])), ctx);
}

describe('backup_status', () => {
  it('is quiet before the first run and after a fresh good one', () => {
    expect(plan(`${NOW}\nunit-ok\n`)).toEqual({ status: 'ok', reason: 'no backup yet (the job has not run here)' });
    expect(plan(`${NOW}\nunit-ok\nresult=ok\nid=20270115T023000Z\nfinished=${NOW - 7200}\n`)).toEqual({
      status: 'ok',
      reason: 'last backup 20270115T023000Z 2.0 h ago',
    });
  });

  it('a failed run is a problem with its message, the journal to read and the on-demand backup', () => {
    const r = plan(
      `${NOW}\nunit-failed\nresult=failed\nid=\nfinished=${NOW - 3600}\nmessage=mariadb-dump exited 2: Access denied\n`,
    );
    expect(r).toEqual({
      status: 'problem',
      problem: 'the last backup failed 1.0 h ago: mariadb-dump exited 2: Access denied',
      fix: 'read its log (journalctl -u kanka-mariadb-backup.service on backend2), fix the cause, then take one: kanka-infra db backup prod',
    });
    expect(plan(`${NOW}\nunit-failed\n`).status).toBe('problem');
  });

  it('a backup older than the limit is a problem (the timer stopped)', () => {
    const r = plan(`${NOW}\nunit-ok\nresult=ok\nid=20270110T023000Z\nfinished=${NOW - 30 * 3600}\n`);
    expect(r.status).toBe('problem');
    if (r.status === 'problem')
      expect(r.problem).toBe('the newest backup (20270110T023000Z) is 30.0 h old: more than 26 h');
  });

  it('rejects output it does not understand', () => {
    expect(() => fact.parse('garbage')).toThrow(/unexpected backup status output/);
  });
});
