import type { Op } from './ops.js';

export type ChangeAction = 'create' | 'update' | 'delete' | 'run';

/** One thing a task will change on a host: plain data, shown by the renderers, executed by the engine. */
export interface Change {
  action: ChangeAction;
  /** What is changed: a path, a package, a unit, a command. */
  subject: string;
  /** Readable lines for non-content changes: "mode 0644 -> 0600", "owner root -> www-data". */
  details: string[];
  /** Unified diff of file content, when there is one (a summary when the content is sensitive). */
  diff?: string;
  /** The content derives from a secret, or is a private file's: reports never show it, only that it changed. */
  sensitive?: boolean;
  /** sha256 of the file content before (absent: no file) and after the change. */
  content?: { before?: string; after: string };
  ops: Op[];
}

/** The result of planning one task against probed state. */
export type PlanResult = { status: 'ok'; reason: string } | { status: 'change'; changes: Change[] } | ProblemResult;

/**
 * Something on the host needs a person, and this task will not fix it on its own (a broken replica
 * holding data: re-seeding it is a decision, not a side effect of apply). Nothing is changed; plan,
 * apply and drift report it (exit 2) with what to do.
 */
export interface ProblemResult {
  status: 'problem';
  /** What is wrong, in the server's own words where there are some. */
  problem: string;
  /** What to do about it: a command to run, or where to look. */
  fix: string;
}

export function problem(message: string, fix: string): ProblemResult {
  return { status: 'problem', problem: message, fix };
}

export function noop(reason: string): PlanResult {
  return { status: 'ok', reason };
}

export function changes(...list: Change[]): PlanResult {
  return list.length === 0 ? { status: 'ok', reason: 'nothing to do' } : { status: 'change', changes: list };
}

/** A task cannot be planned because of the host's state; reported as a failed task, not a crash. */
export class PlanError extends Error {
  override name = 'PlanError';
}
