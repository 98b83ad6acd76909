import { describe, expect, it } from 'vitest';
import type { HostReport, HostStatus, RunReport, TaskStatus } from '../../../src/engine/report.js';
import { hostBroke, hostTroubled, taskHasWork } from '../../../src/engine/status.js';
import { troubledHosts } from '../../../src/output/summary.js';
import { webhookBody } from '../../../src/output/webhook.js';

const TASK_STATUSES: TaskStatus[] = ['ok', 'pending', 'changed', 'deferred', 'skipped', 'problem', 'failed'];
const HOST_STATUSES: HostStatus[] = ['ok', 'changed', 'pending', 'failed', 'unreachable', 'skipped'];

function host(name: string, status: HostStatus): HostReport {
  return { host: name, address: '192.0.2.1', status, tasks: [], roundTrips: 1, connectMs: 1, durationMs: 1 };
}

describe('what a status means', () => {
  it('a task has work when it would change something or waits for an earlier task', () => {
    expect(TASK_STATUSES.filter((status) => taskHasWork({ status }))).toEqual(['pending', 'deferred']);
  });

  it('a host broke when it failed or could not be reached; a skipped host is troubled too', () => {
    expect(HOST_STATUSES.filter((status) => hostBroke({ status }))).toEqual(['failed', 'unreachable']);
    expect(HOST_STATUSES.filter((status) => hostTroubled({ status }))).toEqual(['failed', 'unreachable', 'skipped']);
  });

  it('the summary and the webhook agree: a host skipped after a failed serial batch is not "as configured"', () => {
    const report: RunReport = {
      command: 'drift',
      env: 'prod',
      playbook: 'playbooks/site.yml',
      durationMs: 1,
      hosts: [host('backend1', 'ok'), host('backend2', 'failed'), host('frontend1', 'skipped')],
    };
    expect(troubledHosts(report).map((h) => h.host)).toEqual(['backend2', 'frontend1']);
    const text = webhookBody(report, 3).text;
    expect(text).toContain('1 of 3 host(s) as configured');
    expect(text).toContain('- frontend1: skipped: not checked');
  });
});
