import pLimit from 'p-limit';
import type { Inventory, Project } from '../config/model.js';
import { RemoteError, type RemoteHost } from '../transport/host.js';
import { TransportError, type Connector, type ConnectionTarget } from '../transport/transport.js';
import type { EventSink } from './events.js';
import { HostRunner, TaskFailed } from './host-runner.js';
import type { HostProgram } from './program.js';
import type { HostReport, HostStatus, RunReport } from './report.js';
import { holderGone, lockOp, processAlive, releaseOps, type RunInfo } from './lock.js';
import { LOCK_HELD_EXIT } from '../transport/ops-to-shell.js';

export interface RunOptions {
  forks: number;
  connect: Connector;
  emit: EventSink;
}

export interface ApplyOptions extends RunOptions {
  /** Called with the plan when there are changes; returns whether to go on. Absent: go on. */
  confirm?: (plan: RunReport) => Promise<boolean>;
  /** Lock every host to change (refusing if another run holds one) and log the run on it. */
  lock?: { info: RunInfo; breakLock: boolean; redact: (text: string) => string };
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

function connectionTarget(inventory: Inventory, host: HostProgram['host']): ConnectionTarget {
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
  // Hosts whose only failures are health checks: reported once the other hosts' plans are known.
  const checksOnly: HostState[] = [];
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
        if (state.status === 'failed' && state.runner?.onlyChecksFailed) checksOnly.push(state);
        else opts.emit({ type: 'host-end', host, phase: 'plan', report: hostReport(state) });
      }),
    ),
  );
  // Only changes of their own count (not another host's check waiting in turn).
  const changing = states.filter((o) => o.status === 'pending').map((o) => ({ host: o.program.host.name, plays: o.runner?.playsWithChanges ?? [] }));
  for (const state of checksOnly) {
    const runner = state.runner;
    if (!runner) continue;
    runner.deferChecksAfterOtherHosts((play) => changing.find((o) => o.plays.some((p) => p <= play))?.host);
    if (!runner.hasFailures) {
      state.status = 'pending';
      delete state.error;
    }
    opts.emit({ type: 'host-end', host: state.program.host.name, phase: 'plan', report: hostReport(state) });
  }
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
  let locked: HostState[] = [];
  if (opts.lock) {
    const outcome = await lockHosts(toApply, opts.lock);
    if (!outcome.ok) {
      closeAll(states);
      return { plan, result: report('apply', project, states, t0) };
    }
    locked = outcome.locked;
    // What was planned may have changed before we held the locks: read it again under them.
    stale = true;
  }
  try {
    await applyPlays(programs, toApply, opts, stale);
  } finally {
    if (opts.lock) await releaseLocks(locked, opts.lock);
    closeAll(states);
  }
  for (const s of states) if (s.status === 'changed' && s.runner && ![...s.runner.reports.values()].some((r) => r.status === 'changed')) s.status = 'ok';
  return { plan, result: report('apply', project, states, t0) };
}

/**
 * Locks the hosts one by one in inventory order, so two runs wanting the same hosts cannot each
 * get some: the first host decides. On refusal, releases what it took and says who holds it.
 */
async function lockHosts(toApply: HostState[], lock: NonNullable<ApplyOptions['lock']>): Promise<{ ok: true; locked: HostState[] } | { ok: false }> {
  const locked: HostState[] = [];
  for (const state of toApply) {
    const remote = state.remote;
    if (!remote) continue;
    try {
      await remote.apply([lockOp(lock.info, false)]);
      locked.push(state);
    } catch (err) {
      if (!(err instanceof RemoteError) || err.code !== LOCK_HELD_EXIT) throw err;
      const owner = err.output.trim();
      const gone = holderGone(owner, lock.info.machine, processAlive);
      if (lock.breakLock && gone !== false) {
        await remote.apply([lockOp(lock.info, true)]);
        locked.push(state);
        continue;
      }
      state.status = 'failed';
      state.error =
        `${state.program.host.name}: locked by another run: ${owner}. ` +
        (gone === true
          ? 'That process is gone: run again with --break-lock to take the lock.'
          : gone === false
            ? 'That run is still going: wait for it.'
            : 'If that run is over (its machine crashed), run again with --break-lock.');
      for (const other of toApply) {
        if (other !== state && other.status === 'pending') {
          other.status = 'skipped';
          other.error = `not started: ${state.program.host.name} is locked by another run; nothing was changed`;
        }
      }
      await releaseLocks(locked, lock, 'not started: another run holds a lock');
      return { ok: false };
    }
  }
  return { ok: true, locked };
}

async function releaseLocks(locked: HostState[], lock: NonNullable<ApplyOptions['lock']>, note?: string): Promise<void> {
  await Promise.all(
    locked.map(async (state) => {
      const changes = state.runner ? [...state.runner.reports.values()].filter((r) => r.status === 'changed').flatMap((r) => r.changes.map((c) => `${c.action} ${c.subject}`)) : [];
      const record = {
        when: new Date().toISOString(),
        who: `${lock.info.user}@${lock.info.machine}`,
        pid: lock.info.pid,
        command: lock.info.command,
        env: lock.info.env,
        commit: lock.info.commit(),
        status: note ?? state.status,
        changes,
      };
      try {
        await state.remote?.apply(releaseOps(lock.info, lock.redact(JSON.stringify(record))));
      } catch {
        // The host went away mid-run: its lock stays, and the next run says who held it.
      }
    }),
  );
}

async function applyPlays(programs: HostProgram[], toApply: HostState[], opts: ApplyOptions, stale: boolean): Promise<void> {
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
}
