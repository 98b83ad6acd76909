import { createHmac } from 'node:crypto';
import type { Change } from '../modules/change.js';
import type { Op } from '../modules/ops.js';
import type { TaskPlan } from './plan-task.js';
import type { ChangeView, TaskReport } from './report.js';

/**
 * What an operator approved: per host, per task, a fingerprint of the plan they saw. Apply checks,
 * under the locks and before any change, that planning again gives the same fingerprints
 * (Terraform's stale-plan check, made per host and per item): what you approve is what runs.
 *
 * A fingerprint covers the task's outcome, what the reports show of each change (sensitive content
 * already reduced to hashes), the content hashes before and after, and the ops that would run. It is
 * an HMAC keyed by the run's secrets, so a saved plan carries no secret value and no plain hash of
 * one that could be guessed offline.
 */
export interface ApprovedTask {
  name: string;
  fingerprint: string;
  /** One line per change, as the plan showed it (for "planned ... now ..." messages). */
  shown: string[];
}

/** Task key -> what was approved, for one host. */
export type HostApproval = Record<string, ApprovedTask>;

/** Host name -> its approval. Hosts with nothing to do have an empty record. */
export type Approval = Record<string, HostApproval>;

/** Something that is no longer as it was approved. */
export interface Moved {
  host: string;
  task: string;
  planned: string;
  now: string;
}

function opDigest(op: Op): unknown {
  return op.op === 'write' ? { ...op, content: op.content.toString('base64') } : op;
}

function changeLine(c: ChangeView): string {
  return `${c.action} ${c.subject}${c.details.length > 0 ? ` (${c.details.join(', ')})` : ''}`;
}

/** The approval record of one task from its report and plan (the plan holds the ops). */
export function approveTask(report: TaskReport, plan: TaskPlan | undefined, key: Buffer): ApprovedTask {
  const changes: Change[] = plan?.status === 'change' ? plan.changes : [];
  // A problem changes nothing: one that appears or goes away between plan and apply moves nothing.
  const status = report.status === 'problem' ? 'ok' : report.status;
  const material = {
    status,
    views: report.changes.map((c) => ({
      action: c.action,
      subject: c.subject,
      details: c.details,
      diff: c.diff ?? null,
    })),
    content: changes.map((c) => c.content ?? null),
    ops: changes.map((c) => c.ops.map(opDigest)),
  };
  return {
    name: report.name,
    fingerprint: createHmac('sha256', key).update(JSON.stringify(material)).digest('hex'),
    shown: report.status === 'pending' ? report.changes.map(changeLine) : [status === 'ok' ? 'nothing to do' : status],
  };
}

/** Differences between what was approved and what planning now gives, for the hosts given. */
export function compareApproval(approved: Approval, now: Approval, hosts: Iterable<string>): Moved[] {
  const moved: Moved[] = [];
  for (const host of hosts) {
    const was = approved[host] ?? {};
    const is = now[host] ?? {};
    for (const key of new Set([...Object.keys(was), ...Object.keys(is)])) {
      const a = was[key];
      const b = is[key];
      if (a?.fingerprint === b?.fingerprint) continue;
      const planned = a ? a.shown.join('; ') : 'not in the plan';
      const current = b ? b.shown.join('; ') : 'no longer in the program';
      moved.push({
        host,
        task: (b ?? a)?.name ?? key,
        planned,
        now: planned === current ? `${current} (the state it was planned on changed)` : current,
      });
    }
  }
  return moved;
}

/** Hosts an approval says have changes to make. */
export function hostsWithChanges(approval: Approval): string[] {
  return Object.entries(approval)
    .filter(([, tasks]) => Object.values(tasks).some((t) => t.shown.length > 0 && t.shown[0] !== 'nothing to do'))
    .map(([host]) => host);
}
