import { randomBytes } from 'node:crypto';
import type { Op } from '../modules/ops.js';
import { STATE_DIR } from './pending-handlers.js';

/** The run lock on a host (a directory: mkdir is atomic) and the log of applies. */
export const LOCK_DIR = `${STATE_DIR}/lock`;
export const APPLY_LOG = `${STATE_DIR}/apply.log`;

/** Who is running what: written into the lock and each apply log record. */
export interface RunInfo {
  user: string;
  machine: string;
  pid: number;
  command: string;
  env: string;
  /** The configuration's git commit ("abc1234", "abc1234-dirty", or "unknown"); asked only when something changed. */
  commit: () => string;
  startedAt: string;
  /** Proves a lock is ours when releasing it. */
  token: string;
}

export function newToken(): string {
  return randomBytes(8).toString('hex');
}

function ownerLine(info: RunInfo): string {
  return `${info.user}@${info.machine} pid ${info.pid} since ${info.startedAt}: ${info.command} [${info.token}]`;
}

export function lockOp(info: RunInfo, force: boolean): Op {
  return { op: 'lock', path: LOCK_DIR, owner: ownerLine(info), force };
}

/** Releases our lock and records the run, in one script. */
export function releaseOps(info: RunInfo, record: string): Op[] {
  return [
    { op: 'append', path: APPLY_LOG, line: record },
    { op: 'unlock', path: LOCK_DIR, token: info.token },
  ];
}

/**
 * Whether the holder of a lock is gone. Only knowable for a holder on this machine (its pid is
 * not running); for a holder elsewhere, undefined: only a person can tell.
 */
export function holderGone(owner: string, machine: string, isAlive: (pid: number) => boolean): boolean | undefined {
  const m = /^\S+@(\S+) pid (\d+) /.exec(owner);
  if (!m || m[1] !== machine) return undefined;
  return !isAlive(Number(m[2]));
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
