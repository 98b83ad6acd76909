import { PassThrough } from 'node:stream';
import { runCli } from '../../src/cli/main.js';
import type { Io } from '../../src/cli/io.js';
import type { Interruption } from '../../src/cli/interrupt.js';
import type { RemoteHost } from '../../src/transport/host.js';
import type { ConnectionTarget } from '../../src/transport/transport.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  connected: string[];
}

/** Runs the CLI in-process with captured output and an injected connector (no process exit). */
export async function cli(
  args: string[],
  opts: {
    cwd: string;
    connect?: (t: ConnectionTarget) => Promise<RemoteHost>;
    tty?: boolean;
    stdin?: string;
    hostKey?: Io['hostKey'];
    interrupt?: Interruption;
  },
): Promise<CliRun> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const stdin = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  if (opts.stdin !== undefined) stdin.end(opts.stdin);
  const connected: string[] = [];
  const io: Io = {
    stdout,
    stderr,
    stdin,
    stdoutIsTTY: opts.tty ?? false,
    stderrIsTTY: opts.tty ?? false,
    stdinIsTTY: opts.tty ?? false,
    cwd: opts.cwd,
    ...(opts.hostKey ? { hostKey: opts.hostKey } : {}),
    ...(opts.interrupt ? { interrupt: opts.interrupt } : {}),
    connect: async (t) => {
      connected.push(t.host);
      if (!opts.connect) throw new Error('test did not expect a connection');
      return opts.connect(t);
    },
  };
  const code = await runCli(args, io);
  return { code, stdout: out, stderr: err, connected };
}
