/** Old cached bases and mirrors go when a new one is built, unless something still uses them. */
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { removeTree } from './fsutil.js';
import { mountPoints } from './mounts.js';
import { CACHE_DIR } from './paths.js';
import { processesUsing } from './proc.js';
import type { Log } from './types.js';

function inUse(dir: string): boolean {
  // A base is a lowerdir of a mounted overlay; a mirror is served by a live process.
  const mountinfo = readFileSync('/proc/self/mountinfo', 'utf8');
  if (mountinfo.includes(`lowerdir=${dir},`) || mountinfo.includes(`lowerdir=${dir} `)) return true;
  if (mountPoints().some((m) => m === dir || m.startsWith(`${dir}/`))) return true;
  return processesUsing(dir).length > 0;
}

/** Removes CACHE_DIR/<kind>-* other than `keep` (bases, mirrors, light-host bases), with their logs, where nothing uses them. */
export async function pruneCache(kind: 'base' | 'mirror' | 'light', keep: string, log: Log): Promise<void> {
  let entries: string[];
  try {
    entries = readdirSync(CACHE_DIR);
  } catch {
    return;
  }
  for (const name of entries) {
    if (!new RegExp(`^${kind}-[0-9a-f]{16}$`).test(name)) continue;
    const dir = join(CACHE_DIR, name);
    if (dir === keep || inUse(dir)) continue;
    await removeTree(dir);
    rmSync(`${dir}.log`, { force: true });
    log(`${kind}: removed the outdated ${dir}`);
  }
}
