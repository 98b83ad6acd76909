/** The fleet's state file: which hosts exist, their addresses, the pids it started, the mirror server. */
import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from './fsutil.js';
import { fleetNetwork, fleetPaths } from './paths.js';

export interface HostState {
  name: string;
  groups: string[];
  address: string;
  /** systemd-nspawn pid while running, with its start time so a reused pid is never mistaken for it. */
  pid?: number;
  pidStart?: string;
  /** The base the host's overlay upper dir was made on top of. */
  baseHash?: string;
}

export interface MirrorServerState {
  pid: number;
  pidStart: string;
  dir: string;
  address: string;
  port: number;
}

export interface FleetState {
  version: 1;
  fleet: string;
  bridge: string;
  gateway: string;
  /** The last host spec given to fleetUp, in order: what the inventory lists. */
  members: string[];
  /** Every host this fleet ever had (an address stays reserved for its name). */
  hosts: Record<string, HostState>;
  mirror?: MirrorServerState;
}

export function newState(fleet: string): FleetState {
  const net = fleetNetwork(fleet);
  return { version: 1, fleet, bridge: net.bridge, gateway: net.gateway, members: [], hosts: {} };
}

export function loadState(fleet: string): FleetState | undefined {
  const file = fleetPaths(fleet).stateFile;
  if (!existsSync(file)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(
      `${file} is not valid JSON (${String(err)}); run \`npm run fleet:down\` after fixing or removing it`,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || (parsed as { version?: unknown }).version !== 1) {
    throw new Error(`${file} has an unknown format; remove it (after stopping any fleet processes) and retry`);
  }
  return parsed as FleetState;
}

export function saveState(state: FleetState): void {
  writeFileAtomic(fleetPaths(state.fleet).stateFile, `${JSON.stringify(state, null, 2)}\n`, 0o600);
}

/** Lowest free address from .11 up, for a new host name. */
export function assignAddress(state: FleetState, prefix: string): string {
  const used = new Set(Object.values(state.hosts).map((h) => h.address));
  for (let last = 11; last <= 250; last++) {
    const addr = `${prefix}.${last}`;
    if (!used.has(addr)) return addr;
  }
  throw new Error('no free address left in the fleet subnet');
}
