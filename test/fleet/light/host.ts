/** One light host: its overlay root, identity and keys, its sshd (started, recognised, stopped), and teardown. */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCgroups, hostCgroups, killCgroup, removeCgroups } from '../cgroup.js';
import { lastLines, run, runOk, sbinPath, sleep } from '../exec.js';
import { pathInRoot, removeTree, writeInRoot } from '../fsutil.js';
import { hostsFile } from '../host.js';
import { isMountPoint, mountOverlay, mountPoints, mountsUnder, unmountAllUnder } from '../mounts.js';
import { allPids, pidAlive, processStartTime, readCmdline, terminate } from '../proc.js';
import { ensureKeyPair } from '../ssh.js';
import type { Log } from '../types.js';
import { LIGHT, NET } from './layout.js';
import type { HostNames } from './layout.js';
import { setupNetwork, tcpOpen } from './net.js';
import type { LinkInfo, NetSnapshot } from './net.js';
import { saveState } from './state.js';
import type { LightHostState, LightState } from './state.js';

const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 3000;
const PROVISIONED = 'provisioned';

function logTail(file: string, n = 3): string {
  try {
    return lastLines(readFileSync(file, 'utf8'), n);
  } catch {
    return '';
  }
}

export function rootOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/root`);
  } catch {
    return undefined;
  }
}

export function cgroupsOf(name: string): ReturnType<typeof hostCgroups> {
  return hostCgroups(LIGHT, name);
}

/**
 * Is pid the sshd we started for this host (same start time), or its wrapper still on its way to exec it?
 * The wrapper's command line names the host's root; sshd's names /usr/sbin/sshd and it is chrooted there.
 */
function isOurs(n: HostNames, pid: number | undefined, start: string | undefined): boolean {
  if (pid === undefined || !pidAlive(pid) || processStartTime(pid) !== start) return false;
  // The command line reads empty for an instant at each of the wrapper's execs (sh -> ip -> unshare -> sh
  // -> chroot -> sshd, seen here): read again. Still empty means it is in the middle of one of those execs;
  // the same pid and start time make it the process we started.
  let argv = readCmdline(pid) ?? [];
  for (let i = 0; i < 200 && argv.join('') === '' && pidAlive(pid); i++) argv = readCmdline(pid) ?? [];
  if (argv.join('') === '') return pidAlive(pid) && processStartTime(pid) === start;
  const line = argv.join(' ');
  if (argv.includes(n.root) || line.includes(` ${n.root} `)) return true;
  return line.includes('/usr/sbin/sshd') && rootOf(pid) === n.root;
}

export function isRunning(n: HostNames, h: LightHostState | undefined): boolean {
  return h !== undefined && isOurs(n, h.pid, h.pidStart);
}

export async function ensureHostKey(n: HostNames): Promise<string> {
  mkdirSync(n.keyDir, { recursive: true, mode: 0o700 });
  return ensureKeyPair(n.hostKey, `root@${n.name}`);
}

/** Kills everything of this host (its recorded sshd, its cgroup, anything chrooted in its root), unmounts, drops its network. */
async function teardownHost(
  n: HostNames,
  h: LightHostState | undefined,
  net: NetSnapshot,
  log: Log,
): Promise<string[]> {
  const did: string[] = [];
  if (h && isOurs(n, h.pid, h.pidStart) && h.pid !== undefined) {
    const outcome = await terminate(h.pid, () => isOurs(n, h.pid, h.pidStart), STOP_GRACE_MS);
    did.push(`sshd ${h.pid} ${outcome}`);
  }
  const cg = cgroupsOf(n.name);
  const killed = await killCgroup(cg);
  if (killed > 0) did.push(`killed ${killed} in its cgroup`);
  // Anything still chrooted in the root (it could only come from this host's sshd): keeps the mounts busy.
  const inRoot = allPids().filter((pid) => pid !== process.pid && pidAlive(pid) && rootOf(pid) === n.root);
  for (const pid of inRoot) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  if (inRoot.length > 0) {
    did.push(`killed ${inRoot.length} chrooted in its root`);
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline && inRoot.some((p) => pidAlive(p))) await sleep(50);
  }
  // One `umount -R` for the host's tree (7 mounts): unmounting them one by one rereads /proc/self/mountinfo,
  // which has ~700 lines with 100 hosts up, for each step (20 s of system time for 100 hosts here).
  const mounted = mountsUnder(n.dir);
  if (mounted.length > 0) {
    if (mounted.includes(n.root)) await run('umount', ['-R', n.root]);
    const rest = await unmountAllUnder(n.dir);
    did.push(`unmounted ${mounted.length}${rest.length > 0 ? ` (${rest.length} one by one)` : ''}`);
  }
  if (net.netns.has(n.netns) && (await run('ip', ['netns', 'delete', n.netns])).code === 0)
    did.push(`netns ${n.netns} deleted`);
  // Gone with the netns as a rule (its peer was in there); a veth left alone is deleted here.
  if (net.links.has(n.veth) && (await run('ip', ['link', 'delete', n.veth])).code === 0)
    did.push(`veth ${n.veth} deleted`);
  net.netns.delete(n.netns);
  net.links.delete(n.veth);
  removeCgroups(cg);
  if (h) {
    delete h.pid;
    delete h.pidStart;
  }
  if (did.length > 0) log(`${n.name}: ${did.join(', ')}`);
  return did;
}

async function mountRoot(n: HostNames, base: string): Promise<void> {
  for (const d of [n.upper, n.work, n.root]) mkdirSync(d, { recursive: true, mode: 0o755 });
  await mountOverlay(base, n.upper, n.work, n.root);
  const dev = join(n.root, 'dev');
  await runOk('mount', ['--rbind', '/dev', dev]);
  // Unmounting it later must never reach this machine's /dev (its submounts are shared otherwise).
  await runOk('mount', ['--make-rslave', dev]);
  await runOk('mount', ['-t', 'proc', 'proc', join(n.root, 'proc')]);
}

function provisionRoot(n: HostNames, hostKeyPub: string, loginKey: string): void {
  const marker = join(n.dir, PROVISIONED);
  if (!existsSync(marker)) {
    // Fresh upper dir only: later, roles own these files.
    writeInRoot(n.root, '/etc/hostname', `${n.name}\n`);
    writeInRoot(n.root, '/etc/hosts', hostsFile(n.name));
    writeFileSync(marker, `${n.name}\n`);
  }
  // Every start: the pinned host key and the fleet's login key (a role may have replaced the file).
  writeInRoot(n.root, '/etc/ssh/ssh_host_ed25519_key', readFileSync(n.hostKey, 'utf8'), 0o600);
  writeInRoot(n.root, '/etc/ssh/ssh_host_ed25519_key.pub', `${hostKeyPub} root@${n.name}\n`, 0o644);
  const authFile = pathInRoot(n.root, '/root/.ssh/authorized_keys');
  const current = existsSync(authFile) ? readFileSync(authFile, 'utf8') : '';
  if (!current.includes(loginKey)) {
    const sep = current === '' || current.endsWith('\n') ? '' : '\n';
    writeInRoot(n.root, '/root/.ssh/authorized_keys', `${current}${sep}${loginKey} kanka-infra-fleet\n`, 0o600, 0o700);
  }
  mkdirSync(pathInRoot(n.root, '/run/sshd'), { recursive: true, mode: 0o755 });
}

/** sh joins the host's cgroups, then execs ip netns exec -> unshare (own hostname) -> chroot -> sshd: one pid throughout. */
function spawnSshd(n: HostNames): number {
  const cg = cgroupsOf(n.name);
  createCgroups(cg);
  const join_ = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 1; shift; done; shift; exec "$@"';
  const inner = 'hostname "$0" && exec chroot "$1" /usr/sbin/sshd -D -e';
  const args = [
    '-c',
    join_,
    'sh',
    ...cg.dirs.map((d) => join(d, 'cgroup.procs')),
    '--',
    'ip',
    'netns',
    'exec',
    n.netns,
    'unshare',
    '--uts',
    '/bin/sh',
    '-c',
    inner,
    n.name,
    n.root,
  ];
  const fd = openSync(n.log, 'a');
  try {
    const child = spawn('/bin/sh', args, {
      detached: true, // the hosts outlive this process
      stdio: ['ignore', fd, fd],
      env: { PATH: sbinPath(), LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8' },
    });
    child.on('error', () => undefined);
    child.unref();
    if (child.pid === undefined) throw new Error(`${n.name}: could not start sshd`);
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

async function waitReady(n: HostNames, h: LightHostState): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (!isRunning(n, h)) throw new Error(`${n.name}: sshd exited: ${logTail(n.log)} (log: ${n.log})`);
    if (await tcpOpen(n.address, 22, 300)) return;
    await sleep(50);
  }
  throw new Error(
    `${n.name}: sshd not accepting on ${n.address}:22 after ${READY_TIMEOUT_MS / 1000} s (log: ${n.log}: ${logTail(n.log)})`,
  );
}

export interface StartContext {
  state: LightState;
  base: string;
  loginKey: string;
  links: Map<string, LinkInfo>;
  netns: Set<string>;
  log: Log;
}

/** A running host is checked (network repaired if the bridge was recreated); any other is (re)started. Returns ms if started. */
export async function ensureHost(ctx: StartContext, n: HostNames): Promise<number | undefined> {
  const started = Date.now();
  let h = ctx.state.hosts[n.name];
  if (!h) {
    h = { name: n.name, address: n.address };
    ctx.state.hosts[n.name] = h;
    saveState(ctx.state);
  }
  const pub = await ensureHostKey(n);
  const link = ctx.links.get(n.veth);
  const healthy =
    isRunning(n, h) && ctx.netns.has(n.netns) && link !== undefined && isMountPoint(n.root) && h.base === ctx.base;
  if (healthy) {
    if (link.master !== NET.bridge || link.operstate === 'DOWN') {
      // The bridge was deleted and created again (fleetDown + fleetUp): plug the veth back in.
      await runOk('ip', ['link', 'set', n.veth, 'master', NET.bridge]);
      await runOk('ip', ['link', 'set', n.veth, 'up']);
      ctx.log(`${n.name}: veth ${n.veth} plugged back into ${NET.bridge}`);
    }
    await waitReady(n, h);
    return undefined;
  }
  await teardownHost(n, h, ctx, ctx.log);
  if (h.base !== undefined && h.base !== ctx.base) {
    ctx.log(`${n.name}: the light base changed; starting it bare on the new one`);
    await removeTree(n.upper);
    await removeTree(n.work);
    rmSync(join(n.dir, PROVISIONED), { force: true });
  }
  await mountRoot(n, ctx.base);
  h.base = ctx.base;
  provisionRoot(n, pub, ctx.loginKey);
  await setupNetwork(n);
  const pid = spawnSshd(n);
  h.pid = pid;
  h.pidStart = processStartTime(pid) ?? '';
  saveState(ctx.state);
  await waitReady(n, h);
  return Date.now() - started;
}

/** Stops and forgets one host: processes, mounts, network, runtime dir (its host key stays). */
export async function removeHost(state: LightState, n: HostNames, net: NetSnapshot, log: Log): Promise<void> {
  await teardownHost(n, state.hosts[n.name], net, log);
  const left = mountPoints().filter((m) => m === n.dir || m.startsWith(`${n.dir}/`));
  if (left.length > 0) throw new Error(`${n.name}: still mounted: ${left.join(', ')}`);
  await removeTree(n.dir);
  delete state.hosts[n.name];
}
