import pLimit from 'p-limit';
import type { Inventory, Project } from '../config/model.js';
import { RemoteError, type RemoteHost } from '../transport/host.js';
import { TransportError, type Connector, type ConnectionTarget } from '../transport/transport.js';
import type { EventSink } from './events.js';
import { HostRunner, TaskFailed } from './host-runner.js';
import type { HostProgram } from './program.js';
import type { HostReport, HostStatus, RunReport } from './report.js';

export interface RunOptions {
  forks: number;
  connect: Connector;
  emit: EventSink;
}

export interface ApplyOptions extends RunOptions {
  /** Called with the plan when there are changes; returns whether to go on. Absent: go on. */
  confirm?: (plan: RunReport) => Promise<boolean>;
}

interface HostState {
  program: HostProgram;
  runner?: HostRunner;
  remote?: RemoteHost;
  status: HostStatus;
  error?: string;
  connectMs: number;
  started: number;
  durationMs: number;
}

export function connectionTarget(inventory: Inventory, host: HostProgram['host']): ConnectionTarget {
  const ssh = inventory.ssh;
  return {
    host: host.name,
    address: host.address,
    port: host.port,
    user: host.user,
    ...(ssh.key_file ? { keyFile: ssh.key_file } : {}),
    agent: ssh.agent,
    knownHostsFile: ssh.known_hosts,
    connectTimeoutMs: ssh.connect_timeout * 1000,
    keepaliveMs: ssh.keepalive * 1000,
    ...(ssh.jump ? { jump: { address: ssh.jump.address, port: ssh.jump.port, user: ssh.jump.user ?? ssh.user } } : {}),
    sudo: ssh.sudo,
  };
}

/** Connects and plans every host in parallel (at most `forks` at a time). */
async function planAll(project: Project, programs: HostProgram[], opts: RunOptions): Promise<HostState[]> {
  const limit = pLimit(opts.forks);
  const states: HostState[] = programs.map((program) => ({ program, status: 'ok', connectMs: 0, started: Date.now(), durationMs: 0 }));
  await Promise.all(
    states.map((state) =>
      limit(async () => {
        const host = state.program.host.name;
        state.started = Date.now();
        opts.emit({ type: 'host-start', host, phase: 'plan' });
        try {
          const t0 = Date.now();
          state.remote = await opts.connect(connectionTarget(project.inventory, state.program.host));
          state.connectMs = Date.now() - t0;
          state.runner = new HostRunner(state.program, state.remote, opts.emit);
          await state.runner.plan();
          state.status = state.runner.hasFailures ? 'failed' : state.runner.hasChanges ? 'pending' : 'ok';
          if (state.status === 'failed') state.error = 'a task could not be planned';
        } catch (err) {
          failHost(state, err);
        }
        state.durationMs = Date.now() - state.started;
        opts.emit({ type: 'host-end', host, phase: 'plan', report: hostReport(state) });
      }),
    ),
  );
  return states;
}

function failHost(state: HostState, err: unknown): void {
  if (err instanceof TransportError) {
    state.status = err.failure === 'lost' ? 'failed' : 'unreachable';
    state.error = err.message;
  } else if (err instanceof RemoteError || err instanceof TaskFailed) {
    state.status = 'failed';
    state.error = `${state.program.host.name}: ${err.message}`;
  } else {
    throw err;
  }
}

function hostReport(state: HostState, phase: 'plan' | 'apply' = 'plan'): HostReport {
  const tasks = state.runner ? [...state.runner.reports.values()] : [];
  return {
    host: state.program.host.name,
    address: state.program.host.address,
    status: state.status,
    ...(state.error ? { error: state.error } : {}),
    // After apply, what is still only planned was never reached: say so rather than show it as done.
    tasks: phase === 'apply' ? tasks.map((t) => (t.status === 'pending' || t.status === 'deferred' ? { ...t, status: 'skipped' as const, reason: 'not run: this host stopped at an earlier failure' } : t)) : tasks,
    roundTrips: state.remote?.roundTrips ?? 0,
    connectMs: state.connectMs,
    durationMs: state.durationMs,
  };
}

function report(command: RunReport['command'], project: Project, states: HostState[], t0: number): RunReport {
  const phase = command === 'apply' ? 'apply' : 'plan';
  return { command, env: project.inventory.name, playbook: project.playbookFile, hosts: states.map((s) => hostReport(s, phase)), durationMs: Date.now() - t0 };
}

function closeAll(states: HostState[]): void {
  for (const s of states) s.remote?.close();
}

/** Dry run: what would change, from the same code apply uses. Changes nothing. */
export async function planRun(project: Project, programs: HostProgram[], opts: RunOptions, command: 'plan' | 'drift' = 'plan'): Promise<RunReport> {
  const t0 = Date.now();
  const states = await planAll(project, programs, opts);
  closeAll(states);
  return report(command, project, states, t0);
}

/**
 * Plans every host, asks for confirmation if there are changes, then applies play by play:
 * the hosts of a play in batches of `serial`, a batch with a failed host stopping the play's
 * later batches (a rolling update must not take down the next host when one failed).
 */
export async function applyRun(project: Project, programs: HostProgram[], opts: ApplyOptions): Promise<{ plan: RunReport; result?: RunReport }> {
  const t0 = Date.now();
  const states = await planAll(project, programs, opts);
  const plan = report('plan', project, states, t0);
  const toApply = states.filter((s) => s.status === 'pending');
  if (toApply.length === 0) {
    closeAll(states);
    return { plan, result: { ...plan, command: 'apply' } };
  }
  let stale = false;
  if (opts.confirm) {
    stale = true;
    if (!(await opts.confirm(plan))) {
      closeAll(states);
      return { plan };
    }
  }
  const limit = pLimit(opts.forks);
  const playCount = Math.max(0, ...programs.flatMap((p) => p.plays.map((pl) => pl.index + 1)));
  for (let index = 0; index < playCount; index++) {
    const participants = toApply.filter((s) => s.status === 'pending' || s.status === 'changed');
    const inPlay = participants.filter((s) => s.program.plays.some((p) => p.index === index));
    if (inPlay.length === 0) continue;
    const serial = inPlay[0]?.program.plays.find((p) => p.index === index)?.play.serial ?? inPlay.length;
    for (let b = 0; b < inPlay.length; b += serial) {
      const batch = inPlay.slice(b, b + serial);
      await Promise.all(
        batch.map((state) =>
          limit(async () => {
            const playRun = state.program.plays.find((p) => p.index === index);
            const runner = state.runner;
            if (!playRun || !runner) return;
            const started = Date.now();
            opts.emit({ type: 'host-start', host: state.program.host.name, phase: 'apply' });
            try {
              await runner.applyPlay(playRun, stale);
              state.status = 'changed';
            } catch (err) {
              failHost(state, err);
            }
            state.durationMs += Date.now() - started;
            opts.emit({ type: 'host-end', host: state.program.host.name, phase: 'apply', report: hostReport(state, 'apply') });
          }),
        ),
      );
      if (batch.some((s) => s.status === 'failed' || s.status === 'unreachable') && b + serial < inPlay.length) {
        for (const rest of inPlay.slice(b + serial)) {
          rest.status = 'skipped';
          rest.error = `not started: an earlier batch of play "${rest.program.plays.find((p) => p.index === index)?.play.name ?? index}" failed`;
        }
        break;
      }
    }
  }
  closeAll(states);
  for (const s of states) if (s.status === 'changed' && s.runner && ![...s.runner.reports.values()].some((r) => r.status === 'changed')) s.status = 'ok';
  return { plan, result: report('apply', project, states, t0) };
}
