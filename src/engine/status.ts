import type { HostStatus, TaskStatus } from './report.js';

/*
 * What a task's and a host's status mean, said once: the engine, the summaries and the webhook
 * decide with these, so "drifted" and "could not be checked" cannot mean two things.
 */

/** The task has work left: it would change something (pending), or can be known only after an earlier task (deferred). */
export function taskHasWork(t: { status: TaskStatus }): boolean {
  return t.status === 'pending' || t.status === 'deferred';
}

/** The host itself broke: a task failed or the connection did. */
export function hostBroke(h: { status: HostStatus }): boolean {
  return h.status === 'failed' || h.status === 'unreachable';
}

/**
 * The host is not known to be as configured: it broke, or it was skipped (after a failed serial
 * batch, or an interrupted run) and so never checked or changed.
 */
export function hostTroubled(h: { status: HostStatus }): boolean {
  return hostBroke(h) || h.status === 'skipped';
}
