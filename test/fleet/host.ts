/** One fleet host: its overlay root, identity files, boot under systemd-nspawn, address, readiness, stop, wipe. */
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Base } from './base.js';
import { createCgroups, hostCgroups, killCgroup, removeCgroups } from './cgroup.js';
import { lastLines, sbinPath, seconds, sleep } from './exec.js';
import { pathInRoot, removeTree, writeFileAtomic, writeInRoot } from './fsutil.js';
import { mountOverlay, unmountAllUnder } from './mounts.js';
import { configureHostInterface } from './network.js';
import type { FleetNetwork } from './paths.js';
import { hostPaths, machineName } from './paths.js';
import { childrenOf, findNspawnFor, isNspawnFor, pidAlive, processStartTime, terminate } from './proc.js';
import { ensureKeyPair, knownHostsLine, sshRun } from './ssh.js';
import type { FleetState, HostState } from './state.js';
import { saveState } from './state.js';
import type { Log } from './types.js';

/** What booting a host needs, prepared once per fleet operation. */
export interface HostContext {
  state: FleetState;
  net: FleetNetwork;
  base: Base;
  mirrorUrl: string;
  fleetKeyFile: string;
  fleetPublicKey: string;
  log: Log;
}

const READY_TIMEOUT_MS = 90_000;
const STOP_GRACE_MS = 10_000;
const PROVISIONED = 'provisioned';

export function isHostRunning(fleet: string, h: HostState): boolean {
  if (h.pid === undefined) return false;
  return isNspawnFor(h.pid, hostPaths(fleet, h.name).root) && processStartTime(h.pid) === h.pidStart;
}

/** A systemd-nspawn for this host's root that the state does not know (the harness died right after starting it). */
export function adoptOrphan(state: FleetState, h: HostState, log: Log): void {
  if (isHostRunning(state.fleet, h)) return;
  const pid = findNspawnFor(hostPaths(state.fleet, h.name).root);
  if (pid === undefined) return;
  h.pid = pid;
  h.pidStart = processStartTime(pid) ?? '';
  saveState(state);
  log(`${h.name}: found its systemd-nspawn (pid ${pid}) from an earlier run; keeping it`);
}

/** The host's SSH host key pair, generated once and kept in the state dir (it survives resets). */
export async function ensureHostKey(fleet: string, h: HostState): Promise<string> {
  const p = hostPaths(fleet, h.name);
  mkdirSync(p.dir, { recursive: true, mode: 0o700 });
  const pub = await ensureKeyPair(p.hostKey, `root@${h.name}`);
  writeFileAtomic(p.knownHosts, `${knownHostsLine(h.address, pub)}\n`);
  return pub;
}

/** /etc/hosts of a host named `name` (the light hosts use it too). */
export function hostsFile(name: string): string {
  return [
    '127.0.0.1\tlocalhost',
    `127.0.1.1\t${name}`,
    '',
    '::1\t\tlocalhost ip6-localhost ip6-loopback',
    'ff02::1\t\tip6-allnodes',
    'ff02::2\t\tip6-allrouters',
    '',
  ].join('\n');
}

/** Mount the overlay and put the host's identity in. Fresh uppers get hostname, hosts and apt source too. */
async function prepareRoot(ctx: HostContext, h: HostState): Promise<void> {
  const fleet = ctx.state.fleet;
  const p = hostPaths(fleet, h.name);
  if (h.baseHash !== undefined && h.baseHash !== ctx.base.hash && existsSync(p.upper)) {
    ctx.log(`${h.name}: the base image changed; starting it as a bare host on the new base`);
    await wipeHost(fleet, h);
  }
  for (const d of [p.upper, p.work, p.root]) mkdirSync(d, { recursive: true, mode: 0o755 });
  await unmountAllUnder(p.root);
  await mountOverlay(ctx.base.dir, p.upper, p.work, p.root);
  h.baseHash = ctx.base.hash;
  saveState(ctx.state);

  const marker = join(p.dir, PROVISIONED);
  if (!existsSync(marker)) {
    writeInRoot(p.root, '/etc/hostname', `${h.name}\n`);
    writeInRoot(p.root, '/etc/hosts', hostsFile(h.name));
    writeInRoot(p.root, '/etc/apt/sources.list', `deb [trusted=yes] ${ctx.mirrorUrl} ./\n`);
    writeInRoot(p.root, '/etc/machine-id', '', 0o444);
    writeFileSync(marker, `${ctx.base.hash}\n`);
  }
  // Every boot: the pinned host key and the fleet's login key (a role may have replaced the file).
  writeInRoot(p.root, '/etc/ssh/ssh_host_ed25519_key', readFileSync(p.hostKey, 'utf8'), 0o600);
  writeInRoot(p.root, '/etc/ssh/ssh_host_ed25519_key.pub', readFileSync(`${p.hostKey}.pub`, 'utf8'), 0o644);
  const authFile = pathInRoot(p.root, '/root/.ssh/authorized_keys');
  const current = existsSync(authFile) ? readFileSync(authFile, 'utf8') : '';
  if (!current.includes(ctx.fleetPublicKey)) {
    const sep = current === '' || current.endsWith('\n') ? '' : '\n';
    writeInRoot(
      p.root,
      '/root/.ssh/authorized_keys',
      `${current}${sep}${ctx.fleetPublicKey} kanka-infra-fleet\n`,
      0o600,
      0o700,
    );
  }
}

function logTail(file: string, n = 4): string {
  try {
    return lastLines(readFileSync(file, 'utf8'), n);
  } catch {
    return '';
  }
}

/** Starts systemd-nspawn detached, inside the host's own cgroup (see cgroup.ts), and records its pid. */
async function spawnNspawn(ctx: HostContext, h: HostState): Promise<number> {
  const p = hostPaths(ctx.state.fleet, h.name);
  const cg = hostCgroups(ctx.state.fleet, h.name);
  createCgroups(cg);
  const nspawnArgs = [
    '-q',
    '-b',
    '--register=no',
    '--keep-unit',
    '--link-journal=no',
    '--resolv-conf=off',
    '-D',
    p.root,
    '-M',
    machineName(ctx.state.fleet, h.name),
    `--network-bridge=${ctx.net.bridge}`,
  ];
  // sh moves itself into the cgroups, then becomes systemd-nspawn (same pid).
  const script = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 1; shift; done; shift; exec "$@"';
  const args = [
    '-c',
    script,
    'sh',
    ...cg.dirs.map((d) => join(d, 'cgroup.procs')),
    '--',
    'systemd-nspawn',
    ...nspawnArgs,
  ];
  const fd = openSync(p.log, 'w');
  let pid: number | undefined;
  try {
    const child = spawn('/bin/sh', args, {
      detached: true, // setsid: the host outlives this process (vitest, the CLI)
      stdio: ['ignore', fd, fd],
      env: { ...process.env, PATH: sbinPath() },
    });
    child.on('error', () => undefined);
    child.unref();
    pid = child.pid;
  } finally {
    closeSync(fd);
  }
  if (pid === undefined) throw new Error(`${h.name}: could not start systemd-nspawn`);
  h.pid = pid;
  h.pidStart = processStartTime(pid) ?? '';
  saveState(ctx.state);
  const deadline = Date.now() + 5000;
  while (!isNspawnFor(pid, p.root)) {
    if (!pidAlive(pid) || Date.now() > deadline) {
      throw new Error(`${h.name}: systemd-nspawn did not start: ${logTail(p.log)} (log: ${p.log})`);
    }
    await sleep(10);
  }
  return pid;
}

function netNamespace(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`);
  } catch {
    return undefined;
  }
}

/** The container's init: the child of systemd-nspawn living in another network namespace. */
function containerInit(nspawnPid: number): number | undefined {
  const own = netNamespace(process.pid);
  return childrenOf(nspawnPid).find((c) => {
    const ns = netNamespace(c);
    return ns !== undefined && ns !== own;
  });
}

/** Put the host's address on host0 (inside its namespace), waiting for nspawn to move the veth in. */
async function configureNetwork(ctx: HostContext, h: HostState): Promise<void> {
  const p = hostPaths(ctx.state.fleet, h.name);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (!isHostRunning(ctx.state.fleet, h)) {
      throw new Error(`${h.name}: systemd-nspawn exited during boot: ${logTail(p.log)} (log: ${p.log})`);
    }
    const init = h.pid === undefined ? undefined : containerInit(h.pid);
    if (init !== undefined && (await configureHostInterface(init, h.address, ctx.net.prefixLength))) return;
    await sleep(100);
  }
  throw new Error(`${h.name}: no host0 interface in the container after 30 s (log: ${p.log})`);
}

/** Until `systemctl is-system-running` says running or degraded over SSH with the pinned key. */
async function waitReady(ctx: HostContext, h: HostState): Promise<string> {
  const p = hostPaths(ctx.state.fleet, h.name);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = '';
  while (Date.now() < deadline) {
    if (!isHostRunning(ctx.state.fleet, h)) {
      throw new Error(`${h.name}: systemd-nspawn exited during boot: ${logTail(p.log)} (log: ${p.log})`);
    }
    const r = await sshRun(ctx.fleetKeyFile, p.knownHosts, h.address, 'systemctl is-system-running', {
      timeoutMs: 8000,
      connectTimeoutSec: 3,
    });
    const status = r.stdout.trim();
    if (status === 'running') return status;
    if (status === 'degraded') {
      const failed = await sshRun(ctx.fleetKeyFile, p.knownHosts, h.address, 'systemctl --failed --no-legend --plain', {
        timeoutMs: 8000,
      });
      ctx.log(
        `${h.name}: degraded; failed units: ${failed.stdout
          .trim()
          .split('\n')
          .map((l) => l.split(/\s+/)[0])
          .join(', ')}`,
      );
      return status;
    }
    if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/.test(r.stderr)) {
      throw new Error(`${h.name}: its SSH host key is not the pinned one (${p.knownHosts}): ${lastLines(r.stderr, 2)}`);
    }
    last = status || lastLines(r.stderr, 1);
    await sleep(status === '' ? 300 : 500);
  }
  throw new Error(
    `${h.name}: not ready after ${READY_TIMEOUT_MS / 1000} s at ${h.address} (last answer: ${last || 'none'}); console log: ${p.log}: ${logTail(p.log, 3)}`,
  );
}

/** Boots the host unless it runs; then makes sure it has its address and answers. Returns its status. */
export async function ensureHostUp(ctx: HostContext, h: HostState): Promise<string> {
  const started = Date.now();
  adoptOrphan(ctx.state, h, ctx.log);
  let booted = false;
  if (!isHostRunning(ctx.state.fleet, h)) {
    h.pid = undefined;
    // A container whose systemd-nspawn is gone (killed) still runs, holding its veth and overlay.
    const leftovers = await killCgroup(hostCgroups(ctx.state.fleet, h.name));
    if (leftovers > 0) ctx.log(`${h.name}: killed ${leftovers} processes of an orphaned container`);
    await prepareRoot(ctx, h);
    await spawnNspawn(ctx, h);
    booted = true;
  }
  await configureNetwork(ctx, h);
  const status = await waitReady(ctx, h);
  ctx.log(`${h.name}: ${booted ? `booted in ${seconds(started)}` : 'already running'} at ${h.address} (${status})`);
  return status;
}

/**
 * Power off: SIGTERM to its systemd-nspawn (a clean shutdown, well under a second here). If the container
 * ignores it (too early in its boot to have signal handlers), kill the container through its cgroup and
 * let nspawn exit; SIGKILL nspawn only as a last resort. Then unmount and remove the cgroups.
 */
export async function stopHost(state: FleetState, h: HostState, log: Log): Promise<void> {
  const fleet = state.fleet;
  const p = hostPaths(fleet, h.name);
  const cg = hostCgroups(fleet, h.name);
  adoptOrphan(state, h, log);
  if (h.pid !== undefined && isHostRunning(fleet, h)) {
    const pid = h.pid;
    const started = Date.now();
    const ours = (): boolean => isHostRunning(fleet, h);
    let outcome: string = await terminate(pid, ours, STOP_GRACE_MS, false);
    if (outcome === 'timeout') {
      await killCgroup(cg);
      outcome = (await terminate(pid, ours, 3000)) === 'killed' ? 'systemd-nspawn killed' : 'container killed';
      outcome += ' (no clean shutdown in time)';
    }
    log(`${h.name}: ${outcome} in ${seconds(started)}`);
  }
  delete h.pid;
  delete h.pidStart;
  saveState(state);
  const leftovers = await killCgroup(cg);
  if (leftovers > 0) log(`${h.name}: killed ${leftovers} processes left in its cgroup`);
  await unmountAllUnder(p.root);
  removeCgroups(cg);
}

/** Back to a bare host: the overlay's upper and work dirs go; the host key and address stay. */
export async function wipeHost(fleet: string, h: HostState): Promise<void> {
  const p = hostPaths(fleet, h.name);
  if (pidAlive(h.pid ?? 0) && isHostRunning(fleet, h)) throw new Error(`${h.name}: cannot wipe a running host`);
  await unmountAllUnder(p.root);
  await removeTree(p.upper);
  await removeTree(p.work);
  const marker = join(p.dir, PROVISIONED);
  if (existsSync(marker)) unlinkSync(marker);
  delete h.baseHash;
}
