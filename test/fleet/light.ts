/**
 * Light hosts: up to 150 sshd-only Debian hosts for the scale benchmark (bench/light/). No systemd and no
 * container manager: each host is a network namespace (kl-NNN) with a veth on the main fleet's bridge, an
 * overlay root filesystem over a cached "light base" (the main base + the base role's packages), its own
 * SSH host key and address (10.213.7.101 and up), and one `sshd -D` chrooted into its root. A hundred of
 * them take a few hundred MiB.
 *
 * They lean on the main fleet (test/fleet/fleet.ts) for the bridge kanka-br0, the apt mirror on
 * 10.213.7.1:8088, the main base image and the fleet's SSH login key; lightUp makes sure those exist
 * (fleetUp() when something is missing) and never stops, resets or reconfigures the main fleet's hosts.
 *
 * Everything it starts is recorded in /var/lib/kanka-infra-fleet/kanka-light/state.json and lives in its
 * own cgroup (kanka-infra-fleet/kanka-light/<host>), so lightDown stops exactly those processes, also
 * after a crashed run.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { get } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { baseDir } from './base.js';
import { pruneCache } from './cache.js';
import { cgroupPids, createCgroups, hostCgroups, killCgroup, removeCgroups, removeFleetCgroups } from './cgroup.js';
import { lastLines, run, runOk, sbinPath, seconds, sleep } from './exec.js';
import type { RunResult } from './exec.js';
import { fleetPublicKey, fleetUp } from './fleet.js';
import { pathInRoot, removeTree, writeFileAtomic, writeInRoot } from './fsutil.js';
import { isMountPoint, mountOverlay, mountPoints, mountsUnder, unmountAllUnder } from './mounts.js';
import { CACHE_DIR, DEFAULT_FLEET, REPO_ROOT, STATE_ROOT, fleetNetwork, fleetPaths } from './paths.js';
import { allPids, pidAlive, processStartTime, processesUsing, readCmdline, terminate } from './proc.js';
import { removeInventory } from './inventory.js';
import { withLockFile } from './lock.js';
import { mirrorUrl } from './mirror.js';
import { ensureKeyPair, knownHostsLine } from './ssh.js';
import { assertFleetSupport } from './support.js';
import type { Log } from './types.js';

// ---------------------------------------------------------------------------------------------------------
// Layout

/** Name of the light fleet in the state root and the cgroup tree (not a main-fleet name: it has a dash). */
const LIGHT = 'kanka-light';
/** The light hosts' name in the cgroup tree (for fleetCpuSeconds). */
export const LIGHT_FLEET = LIGHT;
export const LIGHT_STATE_DIR = join(STATE_ROOT, LIGHT);
const STATE_FILE = join(LIGHT_STATE_DIR, 'state.json');
const LOCK_FILE = join(LIGHT_STATE_DIR, 'lock');
/** Host keys live apart from the hosts' runtime dirs: lightDown keeps them (stable known_hosts). */
const KEYS_DIR = join(LIGHT_STATE_DIR, 'keys');
const HOSTS_DIR = join(LIGHT_STATE_DIR, 'hosts');
export const LIGHT_INVENTORY_DIR = join(REPO_ROOT, '.fleet', 'light');
export const LIGHT_INVENTORY_FILE = join(LIGHT_INVENTORY_DIR, 'inventory.yml');
const KNOWN_HOSTS_FILE = join(LIGHT_INVENTORY_DIR, 'known_hosts');

/** The main fleet's network: light hosts sit on its bridge, from .101 up (it uses .11 and up). */
const NET = fleetNetwork(DEFAULT_FLEET);
const FIRST_OCTET = 100;
export const LIGHT_MAX_HOSTS = 150;
const PARALLEL = 10;
const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 3000;
const PROVISIONED = 'provisioned';

export interface LightHost {
  name: string;
  address: string;
}

export interface LightUpResult {
  inventoryFile: string;
  hosts: LightHost[];
  /** What this call did and how long it took (ms). */
  timings: {
    totalMs: number;
    /** Making sure of the main fleet's bridge and mirror (fleetUp when needed). */
    fleetMs: number;
    /** The light base: 0-ish when cached, the build time otherwise. */
    baseMs: number;
    /** Starting the hosts that were not running (PARALLEL at a time), to sshd accepting on port 22. */
    startMs: number;
    /** Per started host: from the start of its setup to its sshd accepting. */
    perHostMs: { min: number; median: number; max: number } | undefined;
    started: number;
    kept: number;
    removed: number;
    baseBuilt: boolean;
  };
}

export interface LightOptions {
  log?: (line: string) => void;
}

export interface LightDownOptions extends LightOptions {
  /** Also delete the hosts' SSH host keys (kept by default, so an address keeps its key across runs). */
  purge?: boolean;
}

export function lightHostName(i: number): string {
  return `l${String(i).padStart(3, '0')}`;
}

export function lightAddress(i: number): string {
  return `${NET.prefix}.${FIRST_OCTET + i}`;
}

interface HostNames {
  name: string;
  index: number;
  address: string;
  netns: string;
  /** Host-side end of the veth pair (on the bridge); the other end is eth0 in the netns. */
  veth: string;
  dir: string;
  upper: string;
  work: string;
  root: string;
  log: string;
  keyDir: string;
  hostKey: string;
}

function names(index: number): HostNames {
  const name = lightHostName(index);
  const num = String(index).padStart(3, '0');
  const dir = join(HOSTS_DIR, name);
  const keyDir = join(KEYS_DIR, name);
  return {
    name,
    index,
    address: lightAddress(index),
    netns: `kl-${num}`,
    veth: `vkl${num}`,
    dir,
    upper: join(dir, 'upper'),
    work: join(dir, 'work'),
    root: join(dir, 'root'),
    log: join(dir, 'sshd.log'),
    keyDir,
    hostKey: join(keyDir, 'ssh_host_ed25519_key'),
  };
}

function indexOfName(name: string): number | undefined {
  const m = /^l(\d{3})$/.exec(name);
  if (!m?.[1]) return undefined;
  const i = Number(m[1]);
  return i >= 1 && i <= LIGHT_MAX_HOSTS ? i : undefined;
}

// ---------------------------------------------------------------------------------------------------------
// State and lock

interface LightHostState {
  name: string;
  address: string;
  /** pid of the host's sshd (first the sh/ip/unshare wrapper that execs into it: same pid). */
  pid?: number;
  pidStart?: string;
  /** The light base the host's overlay upper dir sits on. */
  base?: string;
}

interface LightState {
  version: 1;
  hosts: Record<string, LightHostState>;
}

function loadState(): LightState {
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

function saveState(state: LightState): void {
  writeFileAtomic(STATE_FILE, `${JSON.stringify(state, null, 2)}\n`, 0o600);
}

/** One light operation at a time; a lock left by a killed process is taken over. */
function withLightLock<T>(log: Log, fn: () => Promise<T>, waitMs = 20 * 60_000): Promise<T> {
  return withLockFile(
    LIGHT_STATE_DIR,
    LOCK_FILE,
    { waiting: 'another light-host operation', busy: 'light hosts busy' },
    log,
    fn,
    waitMs,
  );
}

// ---------------------------------------------------------------------------------------------------------
// Small helpers

function defaultLog(line: string): void {
  process.stderr.write(`[light] ${line}\n`);
}

/** fn over items, at most `limit` at a time; every item runs, failures are collected. */
async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<string[]> {
  const failures: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (err) {
        failures.push(err instanceof Error ? err.message : String(err));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, () => worker()));
  return failures;
}

/** `ip netns add` creates /run/netns and its bind mount on first use: not safe to run concurrently. */
let netnsQueue: Promise<unknown> = Promise.resolve();
function serialized<T>(fn: () => Promise<T>): Promise<T> {
  const result = netnsQueue.then(fn, fn);
  netnsQueue = result.catch(() => undefined);
  return result;
}

/** Whether something accepts TCP connections at address:port (within timeoutMs). */
export function tcpOpen(address: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port });
    const done = (ok: boolean): void => {
      socket.removeAllListeners();
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function httpOk(url: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = get(url, { timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

function logTail(file: string, n = 3): string {
  try {
    return lastLines(readFileSync(file, 'utf8'), n);
  } catch {
    return '';
  }
}

function rootOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/root`);
  } catch {
    return undefined;
  }
}

async function netnsList(): Promise<Set<string>> {
  const r = await run('ip', ['netns', 'list']);
  const out = new Set<string>();
  if (r.code !== 0) return out;
  for (const line of r.stdout.split('\n')) {
    const name = line.trim().split(/\s+/)[0];
    if (name) out.add(name);
  }
  return out;
}

interface LinkInfo {
  ifname: string;
  master?: string;
  operstate?: string;
}

async function linkList(): Promise<Map<string, LinkInfo>> {
  const r = await run('ip', ['-j', 'link', 'show']);
  const out = new Map<string, LinkInfo>();
  if (r.code !== 0) return out;
  for (const l of JSON.parse(r.stdout) as LinkInfo[]) out.set(l.ifname, l);
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// The main fleet's part: bridge, mirror, login key, main base

const MIRROR_URL = mirrorUrl(NET.gateway);

/**
 * The bridge, the mirror (answering), the fleet key and the main base. When all are there, nothing of the
 * main fleet is touched (no lock taken, no SSH to its hosts: another engineer's benchmark may be timing
 * them); otherwise fleetUp(), which builds/starts what is missing and keeps running hosts as they are.
 */
async function ensureMainFleet(log: Log): Promise<{ mainBase: string; ranFleetUp: boolean }> {
  const mainBase = baseDir();
  const keyFile = fleetPaths(DEFAULT_FLEET).keyFile;
  const bridgeOk = (await run('ip', ['-j', 'addr', 'show', 'dev', NET.bridge])).stdout.includes(
    `"local":"${NET.gateway}"`,
  );
  const ready =
    bridgeOk &&
    existsSync(mainBase) &&
    existsSync(keyFile) &&
    existsSync(`${keyFile}.pub`) &&
    (await httpOk(`${MIRROR_URL}Release`, 3000));
  if (ready) {
    log(`main fleet: bridge ${NET.bridge}, mirror ${MIRROR_URL} and base are up; not touching it`);
    return { mainBase, ranFleetUp: false };
  }
  log('main fleet: bridge, mirror or base missing; running fleetUp()');
  await fleetUp({ log: (l) => log(`fleet: ${l}`) });
  if (!existsSync(mainBase)) throw new Error(`fleetUp() ran but the main base ${mainBase} is missing`);
  return { mainBase, ranFleetUp: true };
}

// ---------------------------------------------------------------------------------------------------------
// The light base

/** The packages of kanka-infra's `base` role (roles/base/defaults.yml base_packages). */
export const LIGHT_PACKAGES: readonly string[] = [
  'nftables',
  'chrony',
  'sudo',
  'curl',
  'ca-certificates',
  'rsync',
  'cron',
  'logrotate',
];

/** Recipe of the light base: data, part of the cache key. */
const LIGHT_RECIPE = {
  v: 1,
  sourcesList: `deb [trusted=yes] ${MIRROR_URL} ./\n`,
  // No package may start a daemon (inside the build, and later on a light host: nothing would stop it).
  policyRcD: '#!/bin/sh\n# kanka-infra light hosts: no init system; never start services from packages.\nexit 101\n',
  install: ['apt-get', '-q', 'install', '-y', '--no-install-recommends', ...LIGHT_PACKAGES],
  dirs: ['/run/sshd'],
};

export function lightBaseDir(mainBase: string): string {
  const hash = createHash('sha256')
    .update(JSON.stringify({ recipe: LIGHT_RECIPE, mainBase }))
    .digest('hex')
    .slice(0, 16);
  return join(CACHE_DIR, `light-${hash}`);
}

function buildScript(): string {
  return [
    'set -eu',
    'export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 PATH=/usr/sbin:/usr/bin:/sbin:/bin',
    'apt-get -q update',
    LIGHT_RECIPE.install.join(' '),
    'apt-get clean',
    '',
  ].join('\n');
}

/** The cached light base, built first if needed: a copy of the main base + the base role's packages. */
async function ensureLightBase(mainBase: string, log: Log): Promise<{ dir: string; built: boolean; ms: number }> {
  const started = Date.now();
  const dir = lightBaseDir(mainBase);
  if (existsSync(dir)) {
    log(`light base: cached ${dir}`);
    return { dir, built: false, ms: Date.now() - started };
  }
  mkdirSync(CACHE_DIR, { recursive: true });
  const tmp = `${dir}.tmp`;
  if (existsSync(tmp)) {
    const busy = processesUsing(tmp);
    if (busy.length > 0)
      throw new Error(
        `a light base build is still running in ${tmp} (pids ${busy.join(', ')}); wait for it or kill it`,
      );
    const m = await unmountAllUnder(tmp);
    log(`light base: removing an unfinished build ${tmp}${m.length ? ` (${m.length} leftover mounts)` : ''}`);
    await removeTree(tmp);
  }
  const logFile = `${dir}.log`;
  log(`light base: building ${dir} from ${mainBase} (log: ${logFile})`);
  await runOk('cp', ['-a', '--reflink=auto', mainBase, tmp]);
  const copied = Date.now();
  writeInRoot(tmp, '/etc/apt/sources.list', LIGHT_RECIPE.sourcesList);
  writeInRoot(tmp, '/usr/sbin/policy-rc.d', LIGHT_RECIPE.policyRcD, 0o755);
  for (const d of LIGHT_RECIPE.dirs) mkdirSync(pathInRoot(tmp, d), { recursive: true, mode: 0o755 });
  const out = createWriteStream(logFile);
  let result: RunResult | undefined;
  try {
    await runOk('mount', ['--bind', '/dev', join(tmp, 'dev')]);
    await runOk('mount', ['--make-rslave', join(tmp, 'dev')]);
    await runOk('mount', ['-t', 'proc', 'proc', join(tmp, 'proc')]);
    const script = buildScript();
    out.write(`$ chroot ${tmp} /bin/sh -s <<'EOF'\n${script}EOF\n`);
    result = await run('chroot', [tmp, '/bin/sh', '-s'], {
      input: script,
      timeoutMs: 15 * 60_000,
      onLine: (l) => out.write(`${l}\n`),
    });
  } finally {
    await new Promise<void>((r) => out.end(r));
    await unmountAllUnder(tmp);
  }
  if (result === undefined || result.code !== 0) {
    throw new Error(
      `light base build failed (exit ${result?.code ?? '?'}): ${lastLines(result ? result.stderr || result.stdout : '', 3)}; see ${logFile} (is the mirror ${MIRROR_URL} up?)`,
    );
  }
  writeFileAtomic(join(tmp, 'etc', 'kanka-light-base'), `${dir}\nfrom ${mainBase}\n`);
  renameSync(tmp, dir);
  log(
    `light base: built in ${seconds(started)} (copy ${((copied - started) / 1000).toFixed(1)} s, apt ${seconds(copied)})`,
  );
  return { dir, built: true, ms: Date.now() - started };
}

// ---------------------------------------------------------------------------------------------------------
// One host

function cgroupsOf(name: string): ReturnType<typeof hostCgroups> {
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

function isRunning(n: HostNames, h: LightHostState | undefined): boolean {
  return h !== undefined && isOurs(n, h.pid, h.pidStart);
}

function hostsFile(name: string): string {
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

async function ensureHostKey(n: HostNames): Promise<string> {
  mkdirSync(n.keyDir, { recursive: true, mode: 0o700 });
  return ensureKeyPair(n.hostKey, `root@${n.name}`);
}

/** Kills everything of this host (its recorded sshd, its cgroup, anything chrooted in its root), unmounts, drops its network. */
/** What exists on this machine, listed once per operation (under the lock: nothing else makes ours meanwhile). */
interface NetSnapshot {
  netns: Set<string>;
  links: Map<string, LinkInfo>;
}

async function netSnapshot(): Promise<NetSnapshot> {
  return { netns: await netnsList(), links: await linkList() };
}

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

async function setupNetwork(n: HostNames): Promise<void> {
  await serialized(() => runOk('ip', ['netns', 'add', n.netns]));
  await runOk('ip', ['-b', '-'], {
    input: [
      `link add ${n.veth} type veth peer name eth0 netns ${n.netns}`,
      `link set ${n.veth} master ${NET.bridge}`,
      `link set ${n.veth} up`,
      '',
    ].join('\n'),
  });
  await runOk('ip', ['-n', n.netns, '-b', '-'], {
    input: [`addr add ${n.address}/24 dev eth0`, 'link set eth0 up', 'link set lo up', ''].join('\n'),
  });
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

interface StartContext {
  state: LightState;
  base: string;
  loginKey: string;
  links: Map<string, LinkInfo>;
  netns: Set<string>;
  log: Log;
}

/** A running host is checked (network repaired if the bridge was recreated); any other is (re)started. Returns ms if started. */
async function ensureHost(ctx: StartContext, n: HostNames): Promise<number | undefined> {
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
async function removeHost(state: LightState, n: HostNames, net: NetSnapshot, log: Log): Promise<void> {
  await teardownHost(n, state.hosts[n.name], net, log);
  const left = mountPoints().filter((m) => m === n.dir || m.startsWith(`${n.dir}/`));
  if (left.length > 0) throw new Error(`${n.name}: still mounted: ${left.join(', ')}`);
  await removeTree(n.dir);
  delete state.hosts[n.name];
}

// ---------------------------------------------------------------------------------------------------------
// Inventory

export function lightInventoryYaml(hosts: readonly LightHost[], keyFile: string): string {
  const lines = [
    '# Generated by test/fleet/light.ts: the light hosts (sshd only, no systemd) for bench/light.',
    `# Do not edit; \`npx tsx test/fleet/light-cli.ts up ${hosts.length}\` rewrites it.`,
    'name: light',
    'playbook: ../../bench/light/light.yml',
    'ssh:',
    '  user: root',
    `  key_file: ${keyFile}`,
    '  known_hosts: known_hosts',
    'vars:',
    `  apt_mirror: "${MIRROR_URL}"`,
    '  # No systemd on these hosts: the base role skips its service tasks.',
    '  init: none',
    'groups:',
    '  light: {}',
    'hosts:',
  ];
  for (const h of hosts) lines.push(`  ${h.name}:`, `    address: ${h.address}`, '    groups: [light]');
  return `${lines.join('\n')}\n`;
}

async function writeInventory(hosts: readonly HostNames[]): Promise<void> {
  const known: string[] = [];
  for (const n of hosts) known.push(knownHostsLine(n.address, await ensureHostKey(n)));
  writeFileAtomic(KNOWN_HOSTS_FILE, `${known.join('\n')}\n`);
  writeFileAtomic(LIGHT_INVENTORY_FILE, lightInventoryYaml(hosts, fleetPaths(DEFAULT_FLEET).keyFile));
}

function removeLightInventory(): void {
  removeInventory({ inventoryFile: LIGHT_INVENTORY_FILE, knownHostsFile: KNOWN_HOSTS_FILE });
}

// ---------------------------------------------------------------------------------------------------------
// Public operations

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)] ?? 0;
}

/**
 * Makes exactly `count` light hosts run (l001..lNNN at 10.213.7.101..): starts the missing ones (10 at a
 * time), keeps running ones as they are (their disks too), stops and removes those above `count`. Writes
 * .fleet/light/inventory.yml and known_hosts. Idempotent.
 */
export async function lightUp(count: number, opts: LightOptions = {}): Promise<LightUpResult> {
  if (!Number.isInteger(count) || count < 0 || count > LIGHT_MAX_HOSTS) {
    throw new Error(`light host count must be an integer from 0 to ${LIGHT_MAX_HOSTS} (got ${count})`);
  }
  assertFleetSupport();
  const log = opts.log ?? defaultLog;
  const t0 = Date.now();
  const main = await ensureMainFleet(log);
  const fleetMs = Date.now() - t0;
  return withLightLock(log, async () => {
    const base = await ensureLightBase(main.mainBase, log);
    const state = loadState();
    const wanted = Array.from({ length: count }, (_v, i) => names(i + 1));
    const wantedNames = new Set(wanted.map((n) => n.name));

    // Above count: stopped and removed.
    const extra = Object.keys(state.hosts)
      .filter((name) => !wantedNames.has(name))
      .map((name) => indexOfName(name))
      .filter((i): i is number => i !== undefined)
      .map(names);
    const net = await netSnapshot();
    if (extra.length > 0) log(`hosts: removing ${extra.length} above ${count}`);
    const removeFailures = await forEachLimit(extra, PARALLEL, async (n) => {
      await removeHost(state, n, net, log);
    });
    saveState(state);
    if (removeFailures.length > 0)
      throw new Error(`could not remove ${removeFailures.length} hosts: ${removeFailures.join('; ')}`);

    const ctx: StartContext = {
      state,
      base: base.dir,
      loginKey: fleetPublicKey(),
      links: net.links,
      netns: net.netns,
      log,
    };
    const startT = Date.now();
    const perHost: number[] = [];
    const toStart = wanted.filter((n) => !isRunning(n, state.hosts[n.name])).length;
    if (toStart > 0) log(`hosts: starting ${toStart} of ${count}, ${PARALLEL} at a time`);
    const failures = await forEachLimit(wanted, PARALLEL, async (n) => {
      const ms = await ensureHost(ctx, n);
      if (ms !== undefined) perHost.push(ms);
    });
    saveState(state);
    const startMs = Date.now() - startT;
    if (failures.length > 0)
      throw new Error(`${failures.length} of ${count} light hosts did not come up: ${failures.slice(0, 5).join('; ')}`);
    const perHostMs =
      perHost.length > 0
        ? { min: Math.min(...perHost), median: median(perHost), max: Math.max(...perHost) }
        : undefined;
    if (perHostMs) {
      log(
        `hosts: ${perHost.length} started in ${(startMs / 1000).toFixed(1)} s (per host ${perHostMs.min}/${perHostMs.median}/${perHostMs.max} ms min/median/max)`,
      );
    }
    if (count > 0) await writeInventory(wanted);
    else removeLightInventory();
    await pruneCache('light', base.dir, log);
    const totalMs = Date.now() - t0;
    log(
      `light: ${count} hosts up in ${(totalMs / 1000).toFixed(1)} s (${perHost.length} started, ${count - perHost.length} kept, ${extra.length} removed); inventory ${LIGHT_INVENTORY_FILE}`,
    );
    return {
      inventoryFile: LIGHT_INVENTORY_FILE,
      hosts: wanted.map((n) => ({ name: n.name, address: n.address })),
      timings: {
        totalMs,
        fleetMs,
        baseMs: base.ms,
        startMs,
        perHostMs,
        started: perHost.length,
        kept: count - perHost.length,
        removed: extra.length,
        baseBuilt: base.built,
      },
    };
  });
}

/** Every light host this machine has a trace of: the state file, host dirs, netns kl-NNN, veths vklNNN, cgroups. */
async function knownHostIndexes(state: LightState): Promise<number[]> {
  const found = new Set<number>();
  const add = (i: number | undefined): void => {
    if (i !== undefined) found.add(i);
  };
  for (const name of Object.keys(state.hosts)) add(indexOfName(name));
  try {
    for (const name of readdirSync(HOSTS_DIR)) add(indexOfName(name));
  } catch {
    // no hosts dir
  }
  for (const ns of await netnsList()) {
    const m = /^kl-(\d{3})$/.exec(ns);
    if (m?.[1]) add(indexOfName(`l${m[1]}`));
  }
  for (const link of (await linkList()).keys()) {
    const m = /^vkl(\d{3})$/.exec(link);
    if (m?.[1]) add(indexOfName(`l${m[1]}`));
  }
  for (const dir of hostCgroups(LIGHT, '').dirs) {
    try {
      for (const name of readdirSync(dir)) add(indexOfName(name));
    } catch {
      // none
    }
  }
  return [...found].sort((a, b) => a - b);
}

/**
 * Stops every light host: its sshd (recorded pid, verified), whatever runs in its cgroup or chroot, its
 * mounts, netns and veth; removes the hosts' disks, the state file and the inventory. Host keys stay
 * unless `purge`. Also cleans up after a crashed lightUp.
 */
export async function lightDown(opts: LightDownOptions = {}): Promise<void> {
  assertFleetSupport();
  const log = opts.log ?? defaultLog;
  await withLightLock(log, async () => {
    const started = Date.now();
    const state = loadState();
    const hosts = (await knownHostIndexes(state)).map(names);
    const net = await netSnapshot();
    const failures = await forEachLimit(hosts, PARALLEL, async (n) => {
      await removeHost(state, n, net, () => undefined);
    });
    const leftovers = await unmountAllUnder(LIGHT_STATE_DIR);
    if (leftovers.length > 0) log(`unmounted ${leftovers.length} leftover mounts`);
    removeFleetCgroups(LIGHT);
    removeLightInventory();
    if (failures.length > 0) {
      saveState(state);
      throw new Error(`light down: ${failures.length} hosts not cleaned: ${failures.slice(0, 5).join('; ')}`);
    }
    rmSync(STATE_FILE, { force: true });
    await removeTree(HOSTS_DIR);
    if (opts.purge) await removeTree(KEYS_DIR);
    log(`light: ${hosts.length} hosts down in ${seconds(started)}${opts.purge ? ' (host keys deleted)' : ''}`);
  });
}

export interface LightHostStatus extends LightHost {
  /** sshd pid; 0 when not running. */
  pid: number;
  running: boolean;
  netns: string;
}

/** Read only: the recorded hosts and whether their sshd runs. */
export function lightStatus(): { inventoryFile: string; hosts: LightHostStatus[] } {
  const state = loadState();
  const hosts = Object.values(state.hosts)
    .map((h) => ({ h, i: indexOfName(h.name) }))
    .filter((x): x is { h: LightHostState; i: number } => x.i !== undefined)
    .sort((a, b) => a.i - b.i)
    .map(({ h, i }) => {
      const n = names(i);
      const running = isRunning(n, h);
      return { name: n.name, address: n.address, netns: n.netns, pid: running ? (h.pid ?? 0) : 0, running };
    });
  return { inventoryFile: LIGHT_INVENTORY_FILE, hosts };
}

/** Does anything of the light hosts remain on this machine (for checks after lightDown)? */
export async function lightLeftovers(): Promise<string[]> {
  const out: string[] = [];
  for (const ns of await netnsList()) if (/^kl-\d{3}$/.test(ns)) out.push(`netns ${ns}`);
  for (const link of (await linkList()).keys()) if (/^vkl\d{3}$/.test(link)) out.push(`link ${link}`);
  for (const m of mountPoints())
    if (m === LIGHT_STATE_DIR || m.startsWith(`${LIGHT_STATE_DIR}/`)) out.push(`mount ${m}`);
  for (const i of await knownHostIndexes(loadState())) {
    const n = names(i);
    for (const pid of cgroupPids(cgroupsOf(n.name))) out.push(`pid ${pid} in ${n.name}'s cgroup`);
  }
  for (const pid of allPids()) {
    const r = rootOf(pid);
    if (pid !== process.pid && pidAlive(pid) && r !== undefined && r.startsWith(`${HOSTS_DIR}/`))
      out.push(`pid ${pid} chrooted in ${r}`);
  }
  if (existsSync(STATE_FILE)) out.push(`state ${STATE_FILE}`);
  return out;
}
