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
 *
 * This module is the public operations (lightUp, lightDown, lightStatus, lightLeftovers); the others in
 * this folder are its parts: layout (names, addresses, paths), state (state file, lock), net (netns and
 * veths), main-fleet, base (the light base), host (one host's lifecycle), inventory.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { pruneCache } from '../cache.js';
import { cgroupPids, hostCgroups, removeFleetCgroups } from '../cgroup.js';
import { seconds } from '../exec.js';
import { fleetPublicKey } from '../fleet.js';
import { removeTree } from '../fsutil.js';
import { mountPoints, unmountAllUnder } from '../mounts.js';
import { allPids, pidAlive } from '../proc.js';
import { assertFleetSupport } from '../support.js';
import { ensureLightBase } from './base.js';
import { cgroupsOf, ensureHost, isRunning, removeHost, rootOf } from './host.js';
import type { StartContext } from './host.js';
import { removeLightInventory, writeInventory } from './inventory.js';
import {
  HOSTS_DIR,
  KEYS_DIR,
  LIGHT,
  LIGHT_INVENTORY_FILE,
  LIGHT_MAX_HOSTS,
  LIGHT_STATE_DIR,
  STATE_FILE,
  indexOfName,
  names,
} from './layout.js';
import type { LightHost } from './layout.js';
import { ensureMainFleet } from './main-fleet.js';
import { linkList, netSnapshot, netnsList } from './net.js';
import { loadState, saveState, withLightLock } from './state.js';
import type { LightHostState, LightState } from './state.js';

export {
  LIGHT_FLEET,
  LIGHT_INVENTORY_DIR,
  LIGHT_INVENTORY_FILE,
  LIGHT_MAX_HOSTS,
  LIGHT_STATE_DIR,
  lightAddress,
  lightHostName,
} from './layout.js';
export type { LightHost } from './layout.js';
export { LIGHT_PACKAGES, lightBaseDir } from './base.js';
export { lightInventoryYaml } from './inventory.js';
export { tcpOpen } from './net.js';

/** Hosts started or removed at a time. */
const PARALLEL = 10;

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
