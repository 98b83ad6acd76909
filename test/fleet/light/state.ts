/** The light hosts' state file (what was started, to stop exactly that) and their lock. */
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../fsutil.js';
import { withLockFile } from '../lock.js';
import type { Log } from '../types.js';
import { LIGHT_STATE_DIR, LOCK_FILE, STATE_FILE } from './layout.js';

export interface LightHostState {
  name: string;
  address: string;
  /** pid of the host's sshd (first the sh/ip/unshare wrapper that execs into it: same pid). */
  pid?: number;
  pidStart?: string;
  /** The light base the host's overlay upper dir sits on. */
  base?: string;
}

export interface LightState {
  version: 1;
  hosts: Record<string, LightHostState>;
}

export function loadState(): LightState {
  try {
    const parsed: unknown = JSON.parse(readFileSync(STATE_FILE, 'utf8'));
    if (typeof parsed === 'object' && parsed !== null && 'hosts' in parsed) {
      const hosts = parsed.hosts;
      if (typeof hosts === 'object' && hosts !== null)
        return { version: 1, hosts: hosts as Record<string, LightHostState> };
    }
  } catch {
    // none yet, or unreadable: start empty (stale things are still found by name, see lightDown)
  }
  return { version: 1, hosts: {} };
}

export function saveState(state: LightState): void {
  writeFileAtomic(STATE_FILE, `${JSON.stringify(state, null, 2)}\n`, 0o600);
}

/** One light operation at a time; a lock left by a killed process is taken over. */
export function withLightLock<T>(log: Log, fn: () => Promise<T>, waitMs = 20 * 60_000): Promise<T> {
  return withLockFile(
    LIGHT_STATE_DIR,
    LOCK_FILE,
    { waiting: 'another light-host operation', busy: 'light hosts busy' },
    log,
    fn,
    waitMs,
  );
}
