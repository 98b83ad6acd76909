import pLimit from 'p-limit';
import type { Host, Inventory } from '../config/model.js';
import type { ShellCommand } from '../shell/command.js';
import { RemoteError, type RemoteHost } from '../transport/host.js';
import { TransportError, type Connector } from '../transport/transport.js';
import { APPLY_LOG, type RunInfo } from './lock.js';
import { STATE_DIR } from './pending-handlers.js';
import { connectionTarget } from './run.js';

/** How an ad-hoc command went on one host. */
export interface CommandHostReport {
  host: string;
  address: string;
  /** ok: exit status 0; failed: another status, or it could not run; unreachable: no connection. */
  status: 'ok' | 'failed' | 'unreachable';
  /** The command's exit status, when it ran. */
  exitCode?: number;
  stdout: string;
  stderr: string;
  /** Why it did not run (connection, sudo), when it did not. */
  error?: string;
  /** It ran, but its record could not be added to the host's apply log. */
  logError?: string;
  durationMs: number;
}

export interface CommandReport {
  env: string;
  command: string;
  hosts: CommandHostReport[];
  durationMs: number;
}

export interface CommandRunOptions {
  forks: number;
  connect: Connector;
  /** Who ran it, for the record each host keeps in its apply log. */
  info: RunInfo;
  /** Masks secret values in the log record (the command line may hold one). */
  redact: (text: string) => string;
  /** Called as each host finishes (progress). */
  done?: (report: CommandHostReport) => void;
}

/**
 * Runs one command line on every given host, at most `forks` at a time, and records it in each
 * host's apply log. It takes no lock: a look at a host (uptime, df) must work during a long apply.
 */
export async function runOnHosts(
  inventory: Inventory,
  hosts: readonly Host[],
  command: ShellCommand,
  opts: CommandRunOptions,
): Promise<CommandReport> {
  const t0 = Date.now();
  const limit = pLimit(opts.forks);
  const reports = await Promise.all(
    hosts.map((host) =>
      limit(async () => {
        const report = await runOnHost(inventory, host, command, opts);
        opts.done?.(report);
        return report;
      }),
    ),
  );
  return { env: inventory.name, command: command.text, hosts: reports, durationMs: Date.now() - t0 };
}

async function runOnHost(
  inventory: Inventory,
  host: Host,
  command: ShellCommand,
  opts: CommandRunOptions,
): Promise<CommandHostReport> {
  const started = Date.now();
  const base = { host: host.name, address: host.address, stdout: '', stderr: '' };
  let remote: RemoteHost | undefined;
  try {
    remote = await opts.connect(connectionTarget(inventory, host));
    const out = await remote.runCommand(command);
    const status = out.code === 0 ? 'ok' : 'failed';
    const logError = await record(remote, command, out.code, opts);
    return {
      ...base,
      status,
      exitCode: out.code,
      stdout: out.stdout,
      stderr: out.stderr,
      ...(logError ? { logError } : {}),
      durationMs: Date.now() - started,
    };
  } catch (err) {
    const unreachable = err instanceof TransportError && err.failure !== 'lost';
    return {
      ...base,
      status: unreachable ? 'unreachable' : 'failed',
      error: describe(host.name, err),
      durationMs: Date.now() - started,
    };
  } finally {
    remote?.close();
  }
}

/** Appends the run to the host's apply log; returns why it could not, if it could not. */
async function record(
  remote: RemoteHost,
  command: ShellCommand,
  exitCode: number,
  opts: CommandRunOptions,
): Promise<string | undefined> {
  const { info } = opts;
  const line = {
    when: new Date().toISOString(),
    who: `${info.user}@${info.machine}`,
    pid: info.pid,
    command: info.command,
    env: info.env,
    commit: info.commit(),
    status: exitCode === 0 ? 'ok' : 'failed',
    run: command.text,
    exitCode,
  };
  try {
    await remote.apply([
      { op: 'mkdir', path: STATE_DIR, mode: '0700' },
      { op: 'append', path: APPLY_LOG, line: opts.redact(JSON.stringify(line)) },
    ]);
    return undefined;
  } catch (err) {
    return `not recorded in ${APPLY_LOG}: ${err instanceof Error ? err.message : String(err)}`;
  }
}

function describe(host: string, err: unknown): string {
  if (err instanceof TransportError) return err.message;
  if (err instanceof RemoteError) return `${host}: ${err.message}`;
  const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
  return `${host}: internal error (a bug in kanka-infra, please report it with this output): ${detail}`;
}
