/** Running local commands: captured output, an optional timeout, never a shell. */
import { spawn } from 'node:child_process';

export interface RunOptions {
  input?: string;
  timeoutMs?: number;
  cwd?: string;
  /** Called with each complete output line (stdout and stderr), e.g. to stream into a log file. */
  onLine?: (line: string) => void;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  /** Exit code; 124 when the timeout killed it; 127 when it could not be started. */
  code: number;
}

/** PATH with the sbin dirs, where debootstrap, ip and mount live. */
export function sbinPath(): string {
  const parts = (process.env.PATH ?? '').split(':').filter((p) => p !== '');
  for (const p of ['/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/local/bin', '/usr/bin', '/bin']) {
    if (!parts.includes(p)) parts.push(p);
  }
  return parts.join(':');
}

export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: { ...process.env, PATH: sbinPath(), LC_ALL: 'C.UTF-8', DEBIAN_FRONTEND: 'noninteractive' },
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let pendingOut = '';
    let pendingErr = '';
    let timedOut = false;
    const emit = (chunk: string, pending: string): string => {
      if (!opts.onLine) return '';
      const text = pending + chunk;
      const lines = text.split('\n');
      const rest = lines.pop() ?? '';
      for (const line of lines) opts.onLine(line);
      return rest;
    };
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      pendingOut = emit(d, pendingOut);
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      pendingErr = emit(d, pendingErr);
    });
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, opts.timeoutMs);
    child.on('error', (err) => {
      if (timer) clearTimeout(timer);
      resolve({ stdout, stderr: stderr + String(err.message), code: 127 });
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      if (opts.onLine) {
        if (pendingOut !== '') opts.onLine(pendingOut);
        if (pendingErr !== '') opts.onLine(pendingErr);
      }
      resolve({ stdout, stderr, code: timedOut ? 124 : (code ?? (signal ? 128 : 1)) });
    });
    // A child may exit without reading its input (ssh-keygen asks nothing when the key file is
    // new): the broken pipe is not an error, the child's exit code says how it went.
    child.stdin?.on('error', () => undefined);
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly result: RunResult,
  ) {
    const detail = lastLines(result.stderr.trim() || result.stdout.trim(), 5);
    super(`\`${command}\` failed (exit ${result.code})${detail ? `: ${detail}` : ''}`);
    this.name = 'CommandError';
  }
}

/** Runs and throws a CommandError (with the end of stderr) on a non-zero exit. Returns stdout. */
export async function runOk(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<string> {
  const result = await run(cmd, args, opts);
  if (result.code !== 0) throw new CommandError([cmd, ...args].join(' '), result);
  return result.stdout;
}

export function lastLines(text: string, n: number): string {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(-n)
    .join(' | ');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function seconds(startMs: number): string {
  return `${((Date.now() - startMs) / 1000).toFixed(1)} s`;
}
