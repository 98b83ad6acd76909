import type { RemoteHost } from './host.js';

/** The result of one remote command. */
export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** One open connection to one host. Every exec is one SSH round trip. */
export interface Transport {
  exec(command: string, stdin?: string | Buffer): Promise<ExecResult>;
  close(): void;
  /** Round trips so far (execs); the connection handshake is not counted. */
  readonly roundTrips: number;
}

/** Everything needed to reach one host. */
export interface ConnectionTarget {
  host: string;
  address: string;
  port: number;
  user: string;
  keyFile?: string;
  agent: boolean;
  knownHostsFile: string;
  connectTimeoutMs: number;
  keepaliveMs: number;
  jump?: { address: string; port: number; user: string };
  /** Run everything through `sudo -n` (non-root user). */
  sudo: boolean;
}

/** Opens a host for the engine: the real one over SSH, or a fake in unit tests. */
export type Connector = (target: ConnectionTarget) => Promise<RemoteHost>;

export type TransportFailure = 'unreachable' | 'auth' | 'host-key' | 'lost';

/** A connection problem, always naming the host: "backend2 (10.0.0.5:22): connection refused". */
export class TransportError extends Error {
  override name = 'TransportError';
  constructor(
    readonly host: string,
    readonly endpoint: string,
    readonly failure: TransportFailure,
    readonly reason: string,
  ) {
    super(`${host} (${endpoint}): ${reason}`);
  }
}

export function endpointOf(t: { address: string; port: number }): string {
  return `${t.address.includes(':') ? `[${t.address}]` : t.address}:${t.port}`;
}
