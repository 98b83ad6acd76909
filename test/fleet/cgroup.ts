/**
 * One cgroup per host. systemd-nspawn --keep-unit runs the container in the caller's cgroup: five
 * containers started from one process would share it, and their systemds would create, kill and remove
 * each other's units (seen here: units failing with "Failed to attach to cgroup", a stopped host taking
 * another's processes with it). So each host's systemd-nspawn is moved into its own cgroup before it
 * starts, in the unified (v2) hierarchy and in the name=systemd one where the machine has it (hybrid).
 * A host's cgroup also tells which processes are that container's, whatever happened to its nspawn.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from './exec.js';
import { pidAlive } from './proc.js';

const GROUP_ROOT = 'kanka-infra-fleet';

interface Hierarchy {
  mount: string;
  unified: boolean;
}

function hierarchies(): Hierarchy[] {
  const out: Hierarchy[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [pre, post] = line.split(' - ');
    if (!pre || !post) continue;
    const mount = pre.split(' ')[4];
    const [fstype, , superOpts] = post.split(' ');
    if (!mount) continue;
    if (fstype === 'cgroup2') out.push({ mount, unified: true });
    else if (fstype === 'cgroup' && (superOpts ?? '').split(',').includes('name=systemd'))
      out.push({ mount, unified: false });
  }
  return out;
}

export interface HostCgroups {
  /** The host's cgroup in each hierarchy. */
  dirs: string[];
  /** The one in the unified hierarchy, if the machine has one. */
  unified?: string;
}

export function hostCgroups(fleet: string, host: string): HostCgroups {
  const result: HostCgroups = { dirs: [] };
  for (const h of hierarchies()) {
    const dir = join(h.mount, GROUP_ROOT, fleet, host);
    result.dirs.push(dir);
    if (h.unified) result.unified = dir;
  }
  return result;
}

export function createCgroups(cg: HostCgroups): void {
  for (const dir of cg.dirs) mkdirSync(dir, { recursive: true });
}

/** Every pid in the host's cgroups (any depth). */
export function cgroupPids(cg: HostCgroups): number[] {
  const pids = new Set<number>();
  const walk = (dir: string): void => {
    let entries: string[];
    try {
      entries = readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name);
      for (const p of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n')) {
        if (p.trim() !== '' && pidAlive(Number(p))) pids.add(Number(p));
      }
    } catch {
      return;
    }
    for (const e of entries) walk(join(dir, e));
  };
  for (const dir of cg.dirs) walk(dir);
  return [...pids];
}

/** SIGKILL everything left in the host's cgroups (the container's processes, nothing else lives there). */
export async function killCgroup(cg: HostCgroups): Promise<number> {
  const found = cgroupPids(cg).length;
  if (found === 0) return 0;
  const killFile = cg.unified ? join(cg.unified, 'cgroup.kill') : undefined;
  if (killFile && existsSync(killFile)) {
    try {
      writeFileSync(killFile, '1');
    } catch {
      // fall back to signals below
    }
  }
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const left = cgroupPids(cg);
    if (left.length === 0) return found;
    for (const pid of left) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    await sleep(100);
  }
  return found;
}

/** Remove the host's (empty) cgroups, deepest first. */
export function removeCgroups(cg: HostCgroups): void {
  const rm = (dir: string): void => {
    if (!existsSync(dir)) return;
    try {
      for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) rm(join(dir, e.name));
      rmdirSync(dir);
    } catch {
      // busy or already gone: left for the next stop
    }
  };
  for (const dir of cg.dirs) rm(dir);
}

/** After a fleet is down: remove its (empty) cgroups; busy ones stay. */
export function removeFleetCgroups(fleet: string): void {
  removeCgroups({ dirs: hierarchies().map((h) => join(h.mount, GROUP_ROOT, fleet)) });
}

/**
 * CPU seconds used so far by every process of a fleet (all its hosts' cgroups), from the unified
 * hierarchy's cpu.stat; undefined where the machine has no unified hierarchy. For benchmarks: what
 * the hosts spent, next to what the tool spent.
 */
export function fleetCpuSeconds(fleet: string): number | undefined {
  const unified = hierarchies().find((h) => h.unified);
  if (!unified) return undefined;
  try {
    const stat = readFileSync(join(unified.mount, GROUP_ROOT, fleet, 'cpu.stat'), 'utf8');
    const usec = /^usage_usec (\d+)$/m.exec(stat)?.[1];
    return usec === undefined ? undefined : Number(usec) / 1e6;
  } catch {
    return undefined;
  }
}
