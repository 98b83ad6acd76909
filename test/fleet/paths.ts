/** Where the fleet keeps things, and the fixed network layout. */
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FleetHostSpec } from './types.js';

export const DEFAULT_FLEET = 'kanka';
export const CACHE_DIR = '/var/cache/kanka-infra';
export const STATE_ROOT = '/var/lib/kanka-infra-fleet';
export const MIRROR_PORT = 8088;
export const FLEET_SRC_DIR = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = join(FLEET_SRC_DIR, '..', '..');

export const DEFAULT_HOSTS: readonly FleetHostSpec[] = [
  { name: 'thumbor', groups: ['thumbor'] },
  { name: 'frontend1', groups: ['frontend'] },
  { name: 'frontend2', groups: ['frontend'] },
  { name: 'backend1', groups: ['backend'] },
  { name: 'backend2', groups: ['backend'] },
];

const FLEET_NAME = /^[a-z][a-z0-9]{0,10}$/;
const HOST_NAME = /^[a-z][a-z0-9-]{0,11}$/;
const GROUP_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export function checkFleetName(fleet: string): void {
  if (!FLEET_NAME.test(fleet)) {
    throw new Error(`fleet name "${fleet}" is invalid: use 1-11 lowercase letters or digits, starting with a letter`);
  }
}

export function checkHostSpecs(hosts: readonly FleetHostSpec[]): void {
  if (hosts.length === 0) throw new Error('the host list is empty');
  if (hosts.length > 200) throw new Error('at most 200 hosts');
  const seen = new Set<string>();
  for (const h of hosts) {
    if (!HOST_NAME.test(h.name)) {
      throw new Error(`host name "${h.name}" is invalid: 1-12 of a-z, 0-9 and "-", starting with a letter`);
    }
    if (seen.has(h.name)) throw new Error(`host "${h.name}" is listed twice`);
    seen.add(h.name);
    for (const g of h.groups) {
      if (!GROUP_NAME.test(g)) throw new Error(`host "${h.name}": group name "${g}" is invalid`);
    }
  }
}

export interface FleetNetwork {
  bridge: string;
  /** First three octets, e.g. "10.213.7". */
  prefix: string;
  gateway: string;
  prefixLength: 24;
}

/** The "kanka" fleet uses 10.213.7.0/24 on kanka-br0; another fleet name gets its own /24 in 10.213.8-207. */
export function fleetNetwork(fleet: string): FleetNetwork {
  checkFleetName(fleet);
  let third = 7;
  if (fleet !== DEFAULT_FLEET) {
    const digest = createHash('sha256').update(fleet).digest();
    third = 8 + ((digest[0] ?? 0) % 200);
  }
  const prefix = `10.213.${third}`;
  return { bridge: `${fleet}-br0`, prefix, gateway: `${prefix}.1`, prefixLength: 24 };
}

export interface FleetPaths {
  stateDir: string;
  stateFile: string;
  lockFile: string;
  keyFile: string;
  mirrorLog: string;
  inventoryDir: string;
  inventoryFile: string;
  knownHostsFile: string;
}

export function fleetPaths(fleet: string): FleetPaths {
  checkFleetName(fleet);
  const stateDir = join(STATE_ROOT, fleet);
  const inventoryDir = join(REPO_ROOT, '.fleet', fleet);
  return {
    stateDir,
    stateFile: join(stateDir, 'state.json'),
    lockFile: join(stateDir, 'lock'),
    keyFile: join(stateDir, 'id_ed25519'),
    mirrorLog: join(stateDir, 'mirror-server.log'),
    inventoryDir,
    inventoryFile: join(inventoryDir, 'inventory.yml'),
    knownHostsFile: join(inventoryDir, 'known_hosts'),
  };
}

export interface HostPaths {
  dir: string;
  upper: string;
  work: string;
  root: string;
  log: string;
  hostKey: string;
  knownHosts: string;
}

export function hostPaths(fleet: string, host: string): HostPaths {
  const dir = join(STATE_ROOT, fleet, host);
  return {
    dir,
    upper: join(dir, 'upper'),
    work: join(dir, 'work'),
    root: join(dir, 'root'),
    log: join(dir, 'nspawn.log'),
    hostKey: join(dir, 'ssh_host_ed25519_key'),
    knownHosts: join(dir, 'known_hosts'),
  };
}

/**
 * systemd-nspawn's machine name, which also names the host-side veth (vb-NAME): the host name in the
 * default fleet, prefixed with the fleet name in others so two fleets can both have a "thumbor".
 * (The host's own hostname comes from its /etc/hostname either way.)
 */
export function machineName(fleet: string, host: string): string {
  return fleet === DEFAULT_FLEET ? host : `${fleet}-${host}`;
}
