import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import { planExitCode } from '../../../src/cli/commands/plan.js';
import type { HostReport, RunReport, TaskReport } from '../../../src/engine/report.js';
import { approveTask } from '../../../src/engine/approval.js';
import { renderReport } from '../../../src/output/human.js';
import { renderJson } from '../../../src/output/json.js';
import { webhookBody } from '../../../src/output/webhook.js';

const plain = new Chalk({ level: 0 });

function task(status: TaskReport['status'], extra: Partial<TaskReport> = {}): TaskReport {
  return {
    key: `0/r/${status}`,
    role: 'mariadb-replica',
    name: 'replica of the primary, replicating',
    module: 'mariadb_replica',
    handler: false,
    status,
    changes: [],
    source: 'roles/mariadb-replica/tasks.yml:17',
    ...extra,
  };
}

const broken = task('problem', {
  problem: {
    message:
      "replication is stopped: the SQL thread is not running (Last_SQL_Errno 1146: Error executing row event: 'Table 'holdout.t' doesn't exist')",
    fix: 'run `kanka-infra db reseed prod backend2` (it shows what it replaces and asks)',
  },
});

function report(command: RunReport['command'], tasks: TaskReport[], status: HostReport['status'] = 'ok'): RunReport {
  return {
    command,
    env: 'prod',
    playbook: 'playbooks/site.yml',
    durationMs: 500,
    hosts: [
      {
        host: 'backend1',
        address: '10.0.0.21',
        status: 'ok',
        tasks: [task('ok', { key: 'a' })],
        roundTrips: 1,
        connectMs: 10,
        durationMs: 100,
      },
      { host: 'backend2', address: '10.0.0.22', status, tasks, roundTrips: 1, connectMs: 10, durationMs: 100 },
    ],
  };
}

describe('a problem that needs a person', () => {
  it('is shown with the server error and the command that fixes it, counted in the recap and the summary', () => {
    const text = renderReport(report('drift', [broken]), { style: plain, verbose: false });
    expect(text).toContain(
      [
        'Health: 1 problem needs a person (nothing was changed for it)',
        "  ! backend2  replication is stopped: the SQL thread is not running (Last_SQL_Errno 1146: Error executing row event: 'Table 'holdout.t' doesn't exist')  [mariadb-replica] replica of the primary, replicating",
        '              to fix: run `kanka-infra db reseed prod backend2` (it shows what it replaces and asks)',
      ].join('\n'),
    );
    // Once, in the Health section: not also in the host's block of changes.
    expect(text.match(/Last_SQL_Errno/g)).toHaveLength(1);
    expect(text).toMatch(/backend2 +ok=0 {2}pending=0 {2}failed=0 {2}unreachable=0 {2}ok {2}problems=1/);
    expect(text).toContain(
      'Drift: no changes on 2 host(s). 1 problem needs a person: backend2 (replica of the primary, replicating).',
    );
  });

  it('makes plan and drift exit 2 even with no change; nothing at all is 0', () => {
    expect(planExitCode(report('drift', [broken]))).toBe(2);
    expect(planExitCode(report('plan', [broken]))).toBe(2);
    expect(planExitCode(report('drift', [task('ok')]))).toBe(0);
    // A host that could not be read is 3, whatever else.
    expect(planExitCode(report('drift', [broken], 'failed'))).toBe(3);
  });

  it('is in the JSON summary and first in the webhook text', () => {
    const doc = JSON.parse(renderJson(report('drift', [broken]), 2, '0.0.0')) as { summary: { problems: unknown[] } };
    expect(doc.summary.problems).toEqual([
      {
        host: 'backend2',
        task: 'replica of the primary, replicating',
        message: broken.problem?.message,
        fix: broken.problem?.fix,
      },
    ]);
    const hook = webhookBody(report('drift', [broken]), 2).text.split('\n');
    expect(hook[0]).toBe('kanka-infra drift prod: problems found');
    expect(hook[1]).toBe(
      `- backend2: PROBLEM: ${broken.problem?.message ?? ''} (to fix: ${broken.problem?.fix ?? ''})`,
    );
    expect(hook.at(-1)).toBe('1 of 2 host(s) as configured; 1 tasks checked.');
  });

  it('does not move an approved plan: a problem that appears or clears between plan and apply changes nothing', () => {
    const key = Buffer.alloc(32, 1);
    expect(approveTask(broken, { status: 'problem', problem: 'x', fix: 'y' }, key).fingerprint).toBe(
      approveTask(task('ok'), { status: 'ok', reason: 'fine' }, key).fingerprint,
    );
    expect(approveTask(task('pending'), undefined, key).fingerprint).not.toBe(
      approveTask(task('ok'), undefined, key).fingerprint,
    );
  });
});
