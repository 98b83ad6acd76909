import type { Redactor } from '../secrets/redact.js';
import type { OfferedKey } from '../transport/host-key.js';
import type { Connector } from '../transport/transport.js';
import type { Interruption } from './interrupt.js';

/** Everything a command touches outside itself, so tests can call commands directly. */
export interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  stdinIsTTY: boolean;
  cwd: string;
  /** How hosts are reached; ssh2 unless a test injects a fake. */
  connect?: Connector;
  /** Reads the host key a new host offers (add-host); ssh2 unless a test injects one. */
  hostKey?: (target: { host: string; address: string; port: number; connectTimeoutMs: number }) => Promise<OfferedKey>;
  /** Once secrets are loaded, their values are masked in everything written (see redacting-io.ts). */
  setRedactor?: (r: Redactor) => void;
  /** Masks secrets in text that leaves the process another way (a webhook body). */
  redact?: (text: string) => string;
  /** Ctrl-C: asks a run holding locks to stop cleanly (wired to SIGINT by entry.ts only). */
  interrupt?: Interruption;
}

export function processIo(): Io {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    stdoutIsTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    stdinIsTTY: process.stdin.isTTY === true,
    cwd: process.cwd(),
  };
}

export function write(stream: NodeJS.WritableStream, text: string): void {
  stream.write(text.endsWith('\n') ? text : `${text}\n`);
}
