/** The local fleet harness: real Debian 12 hosts with systemd under systemd-nspawn, reachable over SSH. */
export type { Fleet, FleetHost, FleetHostSpec, FleetOptions, FleetRef, FleetSupport, SshResult } from './types.js';
export type { FleetDownOptions } from './fleet.js';
export {
  fleetDown,
  fleetPublicKey,
  fleetResetHost,
  fleetResetHosts,
  fleetStartHost,
  fleetStatus,
  fleetStopHost,
  fleetUp,
} from './fleet.js';
export { fleetSupport } from './support.js';
export { sshToHost } from './ssh.js';
export type { SshRunOptions } from './ssh.js';
export { DEFAULT_FLEET, DEFAULT_HOSTS } from './paths.js';
export { fleetCpuSeconds } from './cgroup.js';
