/** Where the light hosts live: names, addresses and paths of the hosts, their state and their inventory. */
import { join } from 'node:path';
import { mirrorUrl } from '../mirror.js';
import { DEFAULT_FLEET, REPO_ROOT, STATE_ROOT, fleetNetwork } from '../paths.js';

/** Name of the light fleet in the state root and the cgroup tree (not a main-fleet name: it has a dash). */
export const LIGHT = 'kanka-light';
/** The light hosts' name in the cgroup tree (for fleetCpuSeconds). */
export const LIGHT_FLEET = LIGHT;
export const LIGHT_STATE_DIR = join(STATE_ROOT, LIGHT);
export const STATE_FILE = join(LIGHT_STATE_DIR, 'state.json');
export const LOCK_FILE = join(LIGHT_STATE_DIR, 'lock');
/** Host keys live apart from the hosts' runtime dirs: lightDown keeps them (stable known_hosts). */
export const KEYS_DIR = join(LIGHT_STATE_DIR, 'keys');
export const HOSTS_DIR = join(LIGHT_STATE_DIR, 'hosts');
export const LIGHT_INVENTORY_DIR = join(REPO_ROOT, '.fleet', 'light');
export const LIGHT_INVENTORY_FILE = join(LIGHT_INVENTORY_DIR, 'inventory.yml');
export const KNOWN_HOSTS_FILE = join(LIGHT_INVENTORY_DIR, 'known_hosts');

/** The main fleet's network: light hosts sit on its bridge, from .101 up (it uses .11 and up). */
export const NET = fleetNetwork(DEFAULT_FLEET);
const FIRST_OCTET = 100;
export const LIGHT_MAX_HOSTS = 150;
/** The main fleet's apt mirror, on its bridge. */
export const MIRROR_URL = mirrorUrl(NET.gateway);

export interface LightHost {
  name: string;
  address: string;
}

export function lightHostName(i: number): string {
  return `l${String(i).padStart(3, '0')}`;
}

export function lightAddress(i: number): string {
  return `${NET.prefix}.${FIRST_OCTET + i}`;
}

export interface HostNames {
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

export function names(index: number): HostNames {
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

export function indexOfName(name: string): number | undefined {
  const m = /^l(\d{3})$/.exec(name);
  if (!m?.[1]) return undefined;
  const i = Number(m[1]);
  return i >= 1 && i <= LIGHT_MAX_HOSTS ? i : undefined;
}
