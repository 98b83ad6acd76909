/** One fleet operation at a time (a test run and a manual `fleet:up` must not interleave). */
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { sleep } from './exec.js';
import { fleetPaths } from './paths.js';
import { pidAlive, processStartTime } from './proc.js';
import type { Log } from './types.js';

interface LockOwner {
  pid: number;
  start: string;
}

function readOwner(file: string): LockOwner | undefined {
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (typeof parsed === 'object' && parsed !== null) {
      const { pid, start } = parsed as { pid?: unknown; start?: unknown };
      if (typeof pid === 'number' && typeof start === 'string') return { pid, start };
    }
  } catch {
    // unreadable: treated as stale below
  }
  return undefined;
}

function ownerAlive(owner: LockOwner | undefined): boolean {
  return owner !== undefined && pidAlive(owner.pid) && processStartTime(owner.pid) === owner.start;
}

/** One fleet operation at a time on this fleet. */
export function withFleetLock<T>(fleet: string, log: Log, fn: () => Promise<T>, waitMs = 20 * 60_000): Promise<T> {
  const { stateDir, lockFile } = fleetPaths(fleet);
  return withLockFile(
    stateDir,
    lockFile,
    { waiting: 'another fleet operation', busy: `fleet "${fleet}" is busy` },
    log,
    fn,
    waitMs,
  );
}

/**
 * Runs fn holding an exclusive lock file (created in `dir`); a lock whose holder process is gone (a
 * killed run) is taken over. `what.waiting` names the holder in the log line, `what.busy` starts the
 * error after `waitMs`.
 */
export async function withLockFile<T>(
  dir: string,
  lockFile: string,
  what: { waiting: string; busy: string },
  log: Log,
  fn: () => Promise<T>,
  waitMs: number,
): Promise<T> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const me: LockOwner = { pid: process.pid, start: processStartTime(process.pid) ?? '' };
  const deadline = Date.now() + waitMs;
  let told = false;
  for (;;) {
    try {
      const fd = openSync(lockFile, 'wx', 0o600);
      writeSync(fd, JSON.stringify(me));
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = readOwner(lockFile);
    if (!ownerAlive(owner)) {
      // Left by a crashed run (or being written right now: give a writer a moment first).
      await sleep(200);
      if (!ownerAlive(readOwner(lockFile))) {
        try {
          unlinkSync(lockFile);
        } catch {
          // someone else removed it
        }
        continue;
      }
    }
    if (!told) {
      log(`waiting for ${what.waiting} (pid ${owner?.pid ?? '?'}) to finish`);
      told = true;
    }
    if (Date.now() > deadline) throw new Error(`${what.busy}: ${lockFile} is held by pid ${owner?.pid ?? '?'}`);
    await sleep(500);
  }
  try {
    return await fn();
  } finally {
    const owner = readOwner(lockFile);
    if (owner && owner.pid === me.pid && owner.start === me.start) {
      try {
        unlinkSync(lockFile);
      } catch {
        // already gone
      }
    }
  }
}
