import { spawn } from 'node:child_process';
import type { ExecResult, Transport } from '../../src/transport/transport.js';

/**
 * This machine's own shell as a transport (sh -c, as sshd runs an exec): the real probe snippets
 * and compiled ops run exactly as they would over SSH, without a host. For tests of what can run
 * in a scratch directory.
 */
export class LocalTransport implements Transport {
  roundTrips = 0;
  /** Each exec's command line, in order. */
  readonly seen: string[] = [];

  /** `binFirst`: a directory put first on PATH (stand-in programs for a test). */
  constructor(private readonly binFirst?: string) {}

  exec(command: string, stdin?: string | Buffer): Promise<ExecResult> {
    this.roundTrips++;
    this.seen.push(command);
    const env = this.binFirst ? { ...process.env, PATH: `${this.binFirst}:${process.env['PATH'] ?? ''}` } : process.env;
    return new Promise((resolve, reject) => {
      const child = spawn('sh', ['-c', command], { env, stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      child.on('error', reject);
      child.on('close', (code) =>
        resolve({
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
          code: code ?? 255,
        }),
      );
      child.stdin.end(stdin ?? '');
    });
  }

  close(): void {}
}
