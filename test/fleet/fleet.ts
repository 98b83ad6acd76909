/** The fleet operations: up, down, status, and stop/start/reset of one host. */
import { mkdirSync } from 'node:fs';
import { ensureBase } from './base.js';
import { pruneCache } from './cache.js';
import { removeFleetCgroups } from './cgroup.js';
import { seconds } from './exec.js';
import type { HostContext } from './host.js';
import { ensureHostKey, ensureHostUp, isHostRunning, stopHost, wipeHost } from './host.js';
import { removeInventory, writeInventory } from './inventory.js';
import { withFleetLock } from './lock.js';
import { ensureMirror, ensureMirrorServer, mirrorUrl, stopMirrorServer } from './mirror.js';
import { unmountAllUnder } from './mounts.js';
import { findNspawnFor } from './proc.js';
import { deleteBridge, ensureBridge } from './network.js';
import { checkHostSpecs, DEFAULT_FLEET, DEFAULT_HOSTS, fleetNetwork, fleetPaths, hostPaths } from './paths.js';
import { readPublicKey, ensureKeyPair } from './ssh.js';
import type { FleetState, HostState } from './state.js';
import { assignAddress, loadState, newState, saveState } from './state.js';
import { assertFleetSupport } from './support.js';
import type { Fleet, FleetHost, FleetOptions, FleetRef, Log } from './types.js';

export interface FleetDownOptions extends FleetRef {
  /** Also delete every host's overlay upper dir: the next `up` boots bare hosts (keys and addresses stay). */
  wipe?: boolean;
}

function defaultLog(line: string): void {
  process.stderr.write(`[fleet] ${line}\n`);
}

function fleetName(opts: { fleet?: string } | undefined): string {
  return opts?.fleet ?? DEFAULT_FLEET;
}

/** The Fleet view of a state: its member hosts, in spec order. */
function toFleet(
  state: FleetState,
  pidOf: (h: HostState) => number | undefined = (h) => (isHostRunning(state.fleet, h) ? h.pid : undefined),
): Fleet {
  const paths = fleetPaths(state.fleet);
  const hosts: FleetHost[] = state.members.map((name) => {
    const h = state.hosts[name];
    if (!h) throw new Error(`state: member ${name} has no host entry`);
    const pid = pidOf(h);
    return {
      name: h.name,
      groups: [...h.groups],
      address: h.address,
      pid: pid ?? 0,
      root: hostPaths(state.fleet, h.name).root,
      running: pid !== undefined,
    };
  });
  return {
    name: state.fleet,
    bridge: state.bridge,
    gatewayAddress: state.gateway,
    mirrorUrl: mirrorUrl(state.gateway),
    sshKeyFile: paths.keyFile,
    inventoryFile: paths.inventoryFile,
    knownHostsFile: paths.knownHostsFile,
    hosts,
  };
}

/** Base, mirror, fleet key, bridge, mirror server: everything a host boot needs. Cheap when all exist. */
async function prepareInfra(state: FleetState, log: Log): Promise<HostContext> {
  const net = fleetNetwork(state.fleet);
  const paths = fleetPaths(state.fleet);
  mkdirSync(paths.stateDir, { recursive: true, mode: 0o700 });
  const base = await ensureBase(log);
  const mirror = await ensureMirror(base, log);
  const fleetPublicKey = await ensureKeyPair(paths.keyFile, `kanka-infra-fleet-${state.fleet}`);
  if ((await ensureBridge(net)) === 'created') log(`network: bridge ${net.bridge} ${net.gateway}/${net.prefixLength}`);
  await ensureMirrorServer(state, mirror.dir, net.gateway, paths.mirrorLog, log);
  await pruneCache('mirror', mirror.dir, log);
  await pruneCache('base', base.dir, log);
  return { state, net, base, mirrorUrl: mirrorUrl(net.gateway), fleetKeyFile: paths.keyFile, fleetPublicKey, log };
}

async function refreshInventory(state: FleetState): Promise<Fleet> {
  const keys = new Map<string, string>();
  for (const name of state.members) {
    const h = state.hosts[name];
    if (h) keys.set(name, await ensureHostKey(state.fleet, h));
  }
  const fleet = toFleet(state);
  writeInventory(fleet, keys);
  return fleet;
}

function hostOrThrow(
  state: FleetState | undefined,
  fleet: string,
  name: string,
): { state: FleetState; host: HostState } {
  const host = state?.hosts[name];
  if (!state || !host) {
    const known = state ? Object.keys(state.hosts).join(', ') : 'none';
    throw new Error(
      `fleet "${fleet}" has no host "${name}" (hosts: ${known || 'none'})${state ? '' : '; run fleet up first'}`,
    );
  }
  return { state, host };
}

async function bootAll(ctx: HostContext, hosts: HostState[]): Promise<void> {
  const results = await Promise.allSettled(hosts.map((h) => ensureHostUp(ctx, h)));
  const failures = results.flatMap((r) =>
    r.status === 'rejected' ? [r.reason instanceof Error ? r.reason.message : String(r.reason)] : [],
  );
  if (failures.length > 0) {
    throw new Error(`${failures.length} of ${hosts.length} hosts did not come up: ${failures.join('; ')}`);
  }
}

/**
 * Boots the fleet: base image and apt mirror (built once, cached), bridge, mirror server, and every host of
 * the spec not running yet (in parallel). Running hosts are left alone; hosts added to the spec are booted
 * without touching the others. Writes the inventory and known_hosts. Idempotent.
 */
export async function fleetUp(opts: FleetOptions = {}): Promise<Fleet> {
  assertFleetSupport();
  const fleet = fleetName(opts);
  const log = opts.log ?? defaultLog;
  const specs = opts.hosts ?? DEFAULT_HOSTS;
  checkHostSpecs(specs);
  return withFleetLock(fleet, log, async () => {
    const started = Date.now();
    const state = loadState(fleet) ?? newState(fleet);
    const net = fleetNetwork(fleet);
    for (const spec of specs) {
      const known = state.hosts[spec.name];
      if (known) known.groups = [...spec.groups];
      else
        state.hosts[spec.name] = {
          name: spec.name,
          groups: [...spec.groups],
          address: assignAddress(state, net.prefix),
        };
    }
    state.members = specs.map((s) => s.name);
    saveState(state);
    for (const name of Object.keys(state.hosts)) {
      if (!state.members.includes(name) && isHostRunning(fleet, state.hosts[name] as HostState)) {
        log(`${name}: not in the host list; left running, not in the inventory`);
      }
    }
    const ctx = await prepareInfra(state, log);
    const members = state.members.map((n) => state.hosts[n] as HostState);
    for (const h of members) {
      if (isHostRunning(fleet, h) && h.baseHash !== undefined && h.baseHash !== ctx.base.hash) {
        log(`${h.name}: runs on an older base image; reset it (or fleet down + up) to move it to the new one`);
      }
    }
    for (const h of members) await ensureHostKey(fleet, h);
    const bootStarted = Date.now();
    const toBoot = members.filter((h) => !isHostRunning(fleet, h)).length;
    if (toBoot > 0) log(`hosts: booting ${toBoot} of ${members.length}`);
    await bootAll(ctx, members);
    if (toBoot > 0) log(`hosts: ${members.length} ready in ${seconds(bootStarted)}`);
    const result = await refreshInventory(state);
    log(`fleet "${fleet}" up in ${seconds(started)}; inventory ${result.inventoryFile}`);
    return result;
  });
}

/** Stops every host of the fleet, unmounts, stops the mirror server, deletes the bridge and the inventory. */
export async function fleetDown(opts: FleetDownOptions = {}): Promise<void> {
  assertFleetSupport();
  const fleet = fleetName(opts);
  const log = opts.log ?? defaultLog;
  await withFleetLock(fleet, log, async () => {
    const state = loadState(fleet);
    const paths = fleetPaths(fleet);
    if (state) {
      await Promise.all(Object.values(state.hosts).map((h) => stopHost(state, h, log)));
      await stopMirrorServer(state, log);
    }
    const leftovers = await unmountAllUnder(paths.stateDir);
    if (leftovers.length > 0) log(`unmounted ${leftovers.length} leftover mounts`);
    const net = fleetNetwork(fleet);
    if (await deleteBridge(net.bridge)) log(`network: bridge ${net.bridge} deleted`);
    removeFleetCgroups(fleet);
    if (state && opts.wipe) {
      for (const h of Object.values(state.hosts)) await wipeHost(fleet, h);
      saveState(state);
      log('hosts: wiped (bare on next up)');
    }
    removeInventory(paths);
    log(`fleet "${fleet}" down`);
  });
}

/** The fleet as recorded, with which hosts run now; undefined if it was never up or nothing of it runs. */
export async function fleetStatus(opts: FleetRef = {}): Promise<Fleet | undefined> {
  const fleet = fleetName(opts);
  const state = loadState(fleet);
  if (!state) return undefined;
  // Read only: a systemd-nspawn left unrecorded by a crashed run counts as running (fleetUp adopts it).
  const pidOf = (h: HostState): number | undefined =>
    isHostRunning(fleet, h) ? h.pid : findNspawnFor(hostPaths(fleet, h.name).root);
  const anyRunning = Object.values(state.hosts).some((h) => pidOf(h) !== undefined);
  if (!anyRunning && state.mirror === undefined) return undefined;
  return toFleet(state, pidOf);
}

/** Powers one host off (clean shutdown); it stays in the inventory, unreachable until started again. */
export async function fleetStopHost(name: string, opts: FleetRef = {}): Promise<void> {
  assertFleetSupport();
  const fleet = fleetName(opts);
  const log = opts.log ?? defaultLog;
  await withFleetLock(fleet, log, async () => {
    const { state, host } = hostOrThrow(loadState(fleet), fleet, name);
    await stopHost(state, host, log);
  });
}

/** Boots one stopped host again, as it was (its disk state is kept). A no-op if it runs. */
export async function fleetStartHost(name: string, opts: FleetRef = {}): Promise<void> {
  assertFleetSupport();
  const fleet = fleetName(opts);
  const log = opts.log ?? defaultLog;
  await withFleetLock(fleet, log, async () => {
    const { state, host } = hostOrThrow(loadState(fleet), fleet, name);
    const ctx = await prepareInfra(state, log);
    await ensureHostKey(fleet, host);
    await ensureHostUp(ctx, host);
    await refreshInventory(state);
  });
}

/** Stop, back to a bare host (overlay upper dir wiped), boot again with the same address and SSH host key. */
export function fleetResetHost(name: string, opts: FleetRef = {}): Promise<void> {
  return fleetResetHosts([name], opts);
}

/** fleetResetHost for several hosts at once: one lock, stopped, wiped and booted in parallel. */
export async function fleetResetHosts(names: readonly string[], opts: FleetRef = {}): Promise<void> {
  assertFleetSupport();
  const fleet = fleetName(opts);
  const log = opts.log ?? defaultLog;
  await withFleetLock(fleet, log, async () => {
    const state = loadState(fleet);
    const hosts = names.map((name) => hostOrThrow(state, fleet, name).host);
    if (!state) return;
    const started = Date.now();
    const ctx = await prepareInfra(state, log);
    await Promise.all(hosts.map((h) => stopHost(state, h, log)));
    for (const h of hosts) await wipeHost(fleet, h);
    saveState(state);
    for (const h of hosts) await ensureHostKey(fleet, h);
    await bootAll(ctx, hosts);
    await refreshInventory(state);
    log(`${names.join(', ')}: reset to ${names.length === 1 ? 'a bare host' : 'bare hosts'} in ${seconds(started)}`);
  });
}

/** The public key of the fleet's SSH login key ("ssh-ed25519 AAAA..."), e.g. for tests that check authorized_keys. */
export function fleetPublicKey(opts: { fleet?: string } = {}): string {
  return readPublicKey(fleetPaths(fleetName(opts)).keyFile);
}
