import type { ChangeAction } from '../modules/change.js';

/** A change as shown to people and scripts: no ops, no content bytes. */
export interface ChangeView {
  action: ChangeAction;
  subject: string;
  details: string[];
  diff?: string;
  /** The content or arguments derive from a secret: the diff is a summary (hashes, lines changed). */
  sensitive?: boolean;
}

export type TaskStatus =
  /** Nothing to do. */
  | 'ok'
  /** plan: would change. */
  | 'pending'
  /** apply: changed. */
  | 'changed'
  /** plan: cannot be known until an earlier task has run. */
  | 'deferred'
  /** apply: not reached, because the host's run stopped at an earlier failure. */
  | 'skipped'
  /** Needs a person (see ProblemResult): nothing is changed; plan, apply and drift exit 2. */
  | 'problem'
  | 'failed';

export interface TaskReport {
  key: string;
  role: string;
  name: string;
  module: string;
  handler: boolean;
  status: TaskStatus;
  /** Why nothing needs doing, or what the task waits for. */
  reason?: string;
  changes: ChangeView[];
  error?: string;
  /** status 'problem': what is wrong, and what to do about it. */
  problem?: { message: string; fix: string };
  source: string;
  /** apply: time spent on this task (re-probe and changes). */
  durationMs?: number;
}

export type HostStatus = 'ok' | 'changed' | 'pending' | 'failed' | 'unreachable' | 'skipped';

export interface HostReport {
  host: string;
  address: string;
  status: HostStatus;
  error?: string;
  tasks: TaskReport[];
  /** SSH round trips (remote commands) made for this host in this run. */
  roundTrips: number;
  connectMs: number;
  durationMs: number;
}

export interface RunReport {
  command: 'plan' | 'apply' | 'drift';
  env: string;
  playbook: string;
  hosts: HostReport[];
  durationMs: number;
}

export function countTasks(h: HostReport): Record<TaskStatus, number> {
  const n: Record<TaskStatus, number> = {
    ok: 0,
    changed: 0,
    pending: 0,
    deferred: 0,
    skipped: 0,
    problem: 0,
    failed: 0,
  };
  for (const t of h.tasks) n[t.status]++;
  return n;
}

/** Every task of the run that needs a person, with its host. */
export function problemsOf(report: RunReport): { host: string; task: TaskReport; message: string; fix: string }[] {
  return report.hosts.flatMap((h) =>
    h.tasks.flatMap((t) =>
      t.status === 'problem' && t.problem
        ? [{ host: h.host, task: t, message: t.problem.message, fix: t.problem.fix }]
        : [],
    ),
  );
}
