/** Public types of the local fleet harness. */

export interface FleetHostSpec {
  name: string;
  groups: string[];
}

export interface FleetOptions {
  /** Fleet name; selects the state dir, the bridge and the subnet. Default "kanka". */
  fleet?: string;
  /** The hosts the fleet must have. Default: the Kanka layout (DEFAULT_HOSTS). */
  hosts?: FleetHostSpec[];
  /** Progress lines. Default: written to stderr with a "[fleet] " prefix. */
  log?: (line: string) => void;
}

/** Options of the calls that act on one fleet (down, stop, start, reset, status). */
export interface FleetRef {
  fleet?: string;
  log?: (line: string) => void;
}

export interface FleetHost {
  name: string;
  groups: string[];
  address: string;
  /** pid of the host's systemd-nspawn process; 0 when the host is not running. */
  pid: number;
  /** The host's root filesystem on this machine (an overlay mount while it runs). */
  root: string;
  running: boolean;
}

export interface Fleet {
  name: string;
  bridge: string;
  gatewayAddress: string;
  mirrorUrl: string;
  sshKeyFile: string;
  inventoryFile: string;
  knownHostsFile: string;
  /** The member hosts (the last host spec given to fleetUp), in address order. */
  hosts: FleetHost[];
}

export type FleetSupport = { ok: true } | { ok: false; reason: string };

export interface SshResult {
  stdout: string;
  stderr: string;
  /** Exit code of the remote command; 255 when ssh itself failed; 124 on timeout. */
  code: number;
}

export type Log = (line: string) => void;
