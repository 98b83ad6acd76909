/** Processes under /proc: is it alive, what is it, whose child is it, and stopping our own. */
import { readFileSync, readdirSync } from 'node:fs';
import { sleep } from './exec.js';

export function readCmdline(pid: number): string[] | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const parts = raw.split('\0');
    if (parts.at(-1) === '') parts.pop();
    return parts;
  } catch {
    return undefined;
  }
}

interface ProcStat {
  state: string;
  ppid: number;
  startTime: string;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid ..." — comm may contain spaces and parentheses: split after the last ")".
    const rest = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
    const state = rest[0];
    const ppid = Number(rest[1]);
    const startTime = rest[19];
    if (state === undefined || startTime === undefined || Number.isNaN(ppid)) return undefined;
    return { state, ppid, startTime };
  } catch {
    return undefined;
  }
}

/** Alive = exists and is not a zombie (a dead child not reaped yet, or an orphan no one reaps). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 1) return false;
  const stat = readStat(pid);
  return stat !== undefined && stat.state !== 'Z' && stat.state !== 'X';
}

/** Kernel start time of a process (clock ticks since boot): with the pid, it identifies one process. */
export function processStartTime(pid: number): string | undefined {
  return readStat(pid)?.startTime;
}

export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const child = Number(entry);
    const stat = readStat(child);
    if (stat && stat.ppid === pid && stat.state !== 'Z') out.push(child);
  }
  return out;
}

export function allPids(): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .map(Number);
}

/** Is pid a live systemd-nspawn booting exactly this root directory? */
export function isNspawnFor(pid: number, root: string): boolean {
  if (!pidAlive(pid)) return false;
  const argv = readCmdline(pid);
  if (!argv || argv.length === 0) return false;
  const exe = argv[0] ?? '';
  if (!(exe === 'systemd-nspawn' || exe.endsWith('/systemd-nspawn'))) return false;
  const i = argv.indexOf('-D');
  return i >= 0 && argv[i + 1] === root;
}

/** A systemd-nspawn process left by a crashed run for this root (its -D is our host's root dir). */
export function findNspawnFor(root: string): number | undefined {
  // Not one of its own forks (they carry its command line until they exec the container's init).
  return allPids().find((pid) => isNspawnFor(pid, root) && !isNspawnFor(readStat(pid)?.ppid ?? 0, root));
}

/**
 * SIGTERM, wait up to graceMs, then (if hard) SIGKILL and wait again; with hard=false a process still alive
 * after graceMs gives 'timeout'. The caller must have checked that the pid is ours (isOurs is re-checked
 * before each signal so a reused pid is never hit).
 */
export async function terminate(
  pid: number,
  isOurs: () => boolean,
  graceMs: number,
  hard = true,
): Promise<'stopped' | 'killed' | 'gone' | 'timeout'> {
  if (!isOurs()) return 'gone';
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return 'gone';
  }
  const deadline = Date.now() + graceMs;
  let resendAt = Date.now() + 1000;
  while (Date.now() < deadline) {
    if (!pidAlive(pid)) return 'stopped';
    if (Date.now() >= resendAt && isOurs()) {
      // Once more: a container too early in its boot to handle the first one takes a later one.
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        return 'stopped';
      }
      resendAt = Date.now() + 1000;
    }
    await sleep(50);
  }
  if (!hard) return 'timeout';
  if (!isOurs()) return 'stopped';
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return 'stopped';
  }
  const hardDeadline = Date.now() + 5000;
  while (Date.now() < hardDeadline && pidAlive(pid)) await sleep(100);
  return 'killed';
}

/** Live processes whose command line mentions path (a build still running from a crashed run). */
export function processesUsing(path: string): number[] {
  return allPids().filter(
    (pid) => pid !== process.pid && pidAlive(pid) && (readCmdline(pid) ?? []).some((a) => a.includes(path)),
  );
}
