import pLimit from 'p-limit';
import type { Inventory, Project } from '../config/model.js';
import { RemoteError, type RemoteHost } from '../transport/host.js';
import { TransportError, type Connector, type ConnectionTarget } from '../transport/transport.js';
import type { EventSink } from './events.js';
import { HostRunner, TaskFailed } from './host-runner.js';
import { allTasks, type HostProgram } from './program.js';
import type { HostReport, HostStatus, RunReport } from './report.js';
import { holderGone, LOCK_DIR, lockOp, processAlive, releaseOps, type RunInfo } from './lock.js';
import { LOCK_HELD_EXIT } from '../transport/ops-to-shell.js';
import { injectedFailure } from './test-hook.js';
import { compareApproval, hostsWithChanges, type Approval, type Moved } from './approval.js';
import { hostBroke, taskHasWork } from './status.js';

export interface RunOptions {
  forks: number;
  connect: Connector;
  emit: EventSink;
  /** Aborted (Ctrl-C): no new host or change starts; what is in flight finishes. */
  signal?: AbortSignal;
}

export interface ApplyOptions extends RunOptions {
  /** Called once the run goes ahead (approved, or nothing to change), before any lock or change: local writes that must wait for a yes. */
  approved?: () => void | Promise<void>;
  /** Called with the plan when there are changes; returns whether to go on. Absent: go on. */
  confirm?: (plan: RunReport) => Promise<boolean>;
  /** Lock every host to change (refusing if another run holds one) and log the run on it. */
  lock?: { info: RunInfo; breakLock: boolean; redact: (text: string) => string };
  /**
   * What you approve is what runs: under the locks, before any change, the hosts are planned again
   * and must give the approved plan (`saved`: a saved plan; absent: the plan this run just made and
   * showed). Any difference refuses the whole run, naming host and task.
   */
  approval?: { key: Buffer; saved?: Approval };
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
  /** The run was interrupted while this host still had changes to make. */
  interrupted?: boolean;
}

/** Thrown instead of starting a change once the run is interrupted. */
class Interrupted extends Error {
  override name = 'Interrupted';
}

/**
 * The host as the runner sees it: once the run is interrupted, no new change starts (the one in
 * flight finishes; reads still work). Locks are taken and released on the unguarded host.
 */
function stoppable(remote: RemoteHost, signal: AbortSignal | undefined): RemoteHost {
  if (!signal) return remote;
  return {
    probe: (facts) => remote.probe(facts),
    apply: (ops) => (signal.aborted ? Promise.reject(new Interrupted('interrupted')) : remote.apply(ops)),
    runCommand: (command) => remote.runCommand(command),
    get roundTrips() {
      return remote.roundTrips;
    },
    close: () => remote.close(),
  };
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

function initialStates(programs: HostProgram[]): HostState[] {
  return programs.map((program) => ({ program, status: 'ok', connectMs: 0, started: Date.now(), durationMs: 0 }));
}

const NOT_STARTED_INTERRUPTED = 'not started: the run was interrupted (Ctrl-C)';

/**
 * Connects and plans every host in parallel (at most `forks` at a time), filling `states` as it
 * goes so that the caller can close every connection whatever happens.
 */
/**
 * `deferProblems`: a health check's finding on a host that still has changes to make (or after an
 * earlier play's host that has) waits for them (a plan before apply); drift reports it as it is now.
 */
async function planAll(project: Project, states: HostState[], opts: RunOptions, deferProblems = true): Promise<void> {
  const limit = pLimit(opts.forks);
  opts.emit({ type: 'phase-start', phase: 'plan', hosts: states.map(taskCount) });
  // Hosts whose only failures are health checks: reported once the other hosts' plans are known.
  const checksOnly: HostState[] = [];
  await Promise.all(
    states.map((state) =>
      limit(async () => {
        const host = state.program.host.name;
        if (opts.signal?.aborted) {
          state.status = 'skipped';
          state.error = NOT_STARTED_INTERRUPTED;
          return;
        }
        state.started = Date.now();
        opts.emit({ type: 'host-start', host, phase: 'plan' });
        try {
          const t0 = Date.now();
          state.remote = await opts.connect(connectionTarget(project.inventory, state.program.host));
          state.connectMs = Date.now() - t0;
          state.runner = new HostRunner(state.program, stoppable(state.remote, opts.signal), opts.emit, deferProblems);
          const injected = injectedFailure(host, 'plan');
          if (injected) throw injected;
          await state.runner.plan();
          settleAfterPlan(state, state.runner);
        } catch (err) {
          failHost(state, err);
        }
        state.durationMs = Date.now() - state.started;
        if (
          (state.status === 'failed' && state.runner?.onlyChecksFailed) ||
          (deferProblems && state.runner?.hasCheckProblems)
        )
          checksOnly.push(state);
        else opts.emit({ type: 'host-end', host, phase: 'plan', report: hostReport(state) });
      }),
    ),
  );
  deferChecks(states, checksOnly, (state) =>
    opts.emit({ type: 'host-end', host: state.program.host.name, phase: 'plan', report: hostReport(state) }),
  );
}

function taskCount(state: HostState): { host: string; tasks: number } {
  return { host: state.program.host.name, tasks: allTasks(state.program).length };
}

/** A host's status from its plan: failed, changes pending, or nothing to do. */
function settleAfterPlan(state: HostState, runner: HostRunner): void {
  state.status = runner.hasFailures ? 'failed' : runner.hasChanges ? 'pending' : 'ok';
  if (state.status === 'failed') state.error = 'a task could not be planned';
}

/**
 * A host whose only failures are health checks while another host has changes planned before them
 * is waiting for those, not failed (see HostRunner.deferChecksAfterOtherHosts).
 */
function deferChecks(states: HostState[], checksOnly: HostState[], done: (state: HostState) => void): void {
  // Only changes of their own count (not another host's check waiting in turn).
  const changing = states
    .filter((o) => o.status === 'pending')
    .map((o) => ({ host: o.program.host.name, plays: o.runner?.playsWithChanges ?? [] }));
  for (const state of checksOnly) {
    const runner = state.runner;
    if (!runner) continue;
    runner.deferChecksAfterOtherHosts((play) => changing.find((o) => o.plays.some((p) => p <= play))?.host);
    if (!runner.hasFailures) {
      state.status = runner.hasChanges ? 'pending' : 'ok';
      delete state.error;
    }
    done(state);
  }
}

/** Plans the given hosts again on their open connections (under the locks), as planAll would. */
async function replan(states: HostState[], toCheck: HostState[], forks: number): Promise<void> {
  const limit = pLimit(forks);
  const checksOnly: HostState[] = [];
  await Promise.all(
    toCheck.map((state) =>
      limit(async () => {
        const runner = state.runner;
        if (!runner) return;
        try {
          await runner.plan();
          settleAfterPlan(state, runner);
          if ((state.status === 'failed' && runner.onlyChecksFailed) || runner.hasCheckProblems) checksOnly.push(state);
        } catch (err) {
          failHost(state, err);
        }
      }),
    ),
  );
  deferChecks(states, checksOnly, () => {});
}

/** The approval of these hosts' current plans. */
function approvalOf(states: HostState[], key: Buffer): Approval {
  return Object.fromEntries(states.map((s) => [s.program.host.name, s.runner?.approval(key) ?? {}]));
}

/** Refuses the run: nothing was started on any host; each moved host says what moved. */
function refuseMoved(states: HostState[], moved: Moved[], saved: boolean): void {
  const byHost = new Map<string, Moved[]>();
  for (const m of moved) byHost.set(m.host, [...(byHost.get(m.host) ?? []), m]);
  for (const s of states) {
    const mine = byHost.get(s.program.host.name);
    if (mine) {
      s.status = 'failed';
      s.error = `${s.program.host.name} is not as it was when the plan was ${saved ? 'saved' : 'shown'}: ${mine.map((m) => `"${m.task}": planned ${m.planned}; now ${m.now}`).join(' | ')}`;
    } else if (s.status === 'pending') {
      s.status = 'skipped';
      s.error = 'not started: another host is not as planned; nothing was changed anywhere';
    }
  }
}

/**
 * Records why a host stopped. Anything else than a connection, remote or task failure is a bug in
 * kanka-infra: it is still this host's failure only (said to be internal), and the run goes on.
 */
function failHost(state: HostState, err: unknown): void {
  if (err instanceof Interrupted) {
    state.interrupted = true;
  } else if (err instanceof TransportError) {
    state.status = err.failure === 'lost' ? 'failed' : 'unreachable';
    state.error = err.message;
  } else if (err instanceof RemoteError || err instanceof TaskFailed) {
    state.status = 'failed';
    state.error = `${state.program.host.name}: ${err.message}`;
  } else {
    state.status = 'failed';
    const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
    state.error = `${state.program.host.name}: internal error (a bug in kanka-infra, please report it with this output): ${detail}`;
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
    tasks:
      phase === 'apply'
        ? tasks.map((t) =>
            notReached(t)
              ? {
                  ...t,
                  status: 'skipped' as const,
                  reason: state.interrupted
                    ? 'not run: the run was interrupted (Ctrl-C)'
                    : 'not run: this host stopped at an earlier failure',
                }
              : t,
          )
        : tasks,
    roundTrips: state.remote?.roundTrips ?? 0,
    connectMs: state.connectMs,
    durationMs: state.durationMs,
  };
}

/** A task apply did not get to: it still had work when the host's run stopped. */
const notReached = taskHasWork;

function report(command: RunReport['command'], project: Project, states: HostState[], t0: number): RunReport {
  const phase = command === 'apply' ? 'apply' : 'plan';
  return {
    command,
    env: project.inventory.name,
    playbook: project.playbookFile,
    hosts: states.map((s) => hostReport(s, phase)),
    durationMs: Date.now() - t0,
  };
}

/** Closes every connection opened; one that fails to close does not keep the others open. */
function closeAll(states: HostState[]): void {
  for (const s of states) {
    try {
      s.remote?.close();
    } catch {
      // Closing is best effort: the socket goes with the process anyway.
    }
  }
}

/** Dry run: what would change, from the same code apply uses. Changes nothing. */
export async function planRun(
  project: Project,
  programs: HostProgram[],
  opts: RunOptions,
  command: 'plan' | 'drift' = 'plan',
): Promise<RunReport> {
  return (await planWithApproval(project, programs, opts, undefined, command)).report;
}

/** A dry run, with the approval record a saved plan keeps (`key`: see approval.ts). */
export async function planWithApproval(
  project: Project,
  programs: HostProgram[],
  opts: RunOptions,
  key: Buffer | undefined,
  command: 'plan' | 'drift' = 'plan',
): Promise<{ report: RunReport; approval: Approval }> {
  const t0 = Date.now();
  const states = initialStates(programs);
  try {
    await planAll(project, states, opts, command !== 'drift');
  } finally {
    closeAll(states);
  }
  return { report: report(command, project, states, t0), approval: key ? approvalOf(states, key) : {} };
}

/** What an apply run ends with: the plan shown, the result (absent: the person said no), whether Ctrl-C stopped it. */
export interface ApplyOutcome {
  plan: RunReport;
  result?: RunReport;
  interrupted: boolean;
  /** The hosts were not as approved: nothing was changed; what moved. */
  moved?: Moved[];
}

/**
 * Plans every host, asks for confirmation if there are changes, then applies play by play:
 * the hosts of a play in batches of `serial`, a batch with a failed host stopping the play's
 * later batches (a rolling update must not take down the next host when one failed).
 * Whatever happens (a host's failure, a bug, Ctrl-C), every lock taken is released (or the
 * report says which could not be and how to clear it) and every connection is closed.
 */
export async function applyRun(project: Project, programs: HostProgram[], opts: ApplyOptions): Promise<ApplyOutcome> {
  const t0 = Date.now();
  const states = initialStates(programs);
  const interrupted = (): boolean => opts.signal?.aborted === true;
  let locked: HostState[] = [];
  try {
    await planAll(project, states, opts);
    const plan = report('plan', project, states, t0);
    const toApply = states.filter((s) => s.status === 'pending');
    if (interrupted()) return { plan, result: stopBeforeApplying(project, states, t0), interrupted: true };
    const approval = opts.approval;
    const approved = approval ? (approval.saved ?? approvalOf(states, approval.key)) : undefined;
    if (approval?.saved && approved) {
      // A saved plan: the hosts it changes, and those with changes now, must be as it says.
      const hosts = new Set([...hostsWithChanges(approved), ...toApply.map((s) => s.program.host.name)]);
      const moved = compareApproval(approved, approvalOf(states, approval.key), hosts);
      if (moved.length > 0) {
        refuseMoved(states, moved, true);
        return { plan, result: report('apply', project, states, t0), interrupted: false, moved };
      }
    }
    if (toApply.length === 0) {
      // Nothing to approve; but a host that failed its plan is no go-ahead.
      if (!states.some(hostBroke)) await opts.approved?.();
      return { plan, result: { ...plan, command: 'apply' }, interrupted: false };
    }
    let stale = false;
    if (opts.confirm) {
      stale = true;
      if (!(await opts.confirm(plan))) return { plan, interrupted: interrupted() };
      if (interrupted()) return { plan, result: stopBeforeApplying(project, states, t0), interrupted: true };
    }
    await opts.approved?.();
    if (opts.lock) {
      const outcome = await lockHosts(toApply, opts.lock, opts.signal);
      locked = outcome.locked;
      if (!outcome.ok) {
        if (interrupted()) markNotStarted(toApply);
        await releaseLocks(locked, opts.lock, outcome.note);
        locked = [];
        return { plan, result: report('apply', project, states, t0), interrupted: interrupted() };
      }
      // What was planned may have changed before we held the locks: read it again under them.
      stale = true;
    }
    if (approval && approved) {
      // Under the locks, before any change: planning again must give exactly what was approved.
      await replan(states, toApply, opts.forks);
      const moved = compareApproval(
        approved,
        approvalOf(states, approval.key),
        toApply.map((s) => s.program.host.name),
      );
      if (moved.length > 0) {
        refuseMoved(states, moved, approval.saved !== undefined);
        const held = locked;
        locked = [];
        if (opts.lock) await releaseLocks(held, opts.lock, 'not started: a host was not as planned');
        return { plan, result: report('apply', project, states, t0), interrupted: false, moved };
      }
      // The plans were just made under the locks: fresh.
      stale = false;
    }
    opts.emit({
      type: 'phase-start',
      phase: 'apply',
      hosts: toApply.filter((s) => s.status === 'pending').map(taskCount),
    });
    await applyPlays(programs, toApply, opts, stale);
    if (opts.lock) {
      const held = locked;
      locked = [];
      await releaseLocks(held, opts.lock);
    }
    for (const s of states)
      if (s.status === 'changed' && s.runner && ![...s.runner.reports.values()].some((r) => r.status === 'changed'))
        s.status = 'ok';
    return { plan, result: report('apply', project, states, t0), interrupted: interrupted() };
  } finally {
    // Only reached with locks still listed when something threw past the steps above (a bug):
    // release them anyway, before the connections they need are closed.
    if (opts.lock && locked.length > 0) await releaseLocks(locked, opts.lock, 'stopped by an internal error');
    closeAll(states);
  }
}

function markNotStarted(states: HostState[]): void {
  for (const s of states) {
    if (s.status === 'pending') {
      s.status = 'skipped';
      s.error = NOT_STARTED_INTERRUPTED;
    }
  }
}

/** Interrupted before anything was applied: what each host would have had, shown as not started. */
function stopBeforeApplying(project: Project, states: HostState[], t0: number): RunReport {
  markNotStarted(states);
  return report('apply', project, states, t0);
}

/**
 * Locks the hosts one by one in inventory order, so two runs wanting the same hosts cannot each
 * get some: the first host decides. On refusal (or Ctrl-C), stops and returns what it took, for
 * the caller to release. A host that cannot be locked for another reason (connection lost, a bug)
 * is that host's failure: it is left out, the others go on.
 */
async function lockHosts(
  toApply: HostState[],
  lock: NonNullable<ApplyOptions['lock']>,
  signal: AbortSignal | undefined,
): Promise<{ ok: true; locked: HostState[] } | { ok: false; locked: HostState[]; note: string }> {
  const locked: HostState[] = [];
  for (const state of toApply) {
    const remote = state.remote;
    if (!remote) continue;
    if (signal?.aborted) return { ok: false, locked, note: 'not started: the run was interrupted (Ctrl-C)' };
    try {
      await remote.apply([lockOp(lock.info, false)]);
      locked.push(state);
    } catch (err) {
      if (!(err instanceof RemoteError) || err.code !== LOCK_HELD_EXIT) {
        failHost(state, err);
        continue;
      }
      const owner = err.output.trim();
      const gone = holderGone(owner, lock.info.machine, processAlive);
      if (lock.breakLock && gone !== false) {
        try {
          await remote.apply([lockOp(lock.info, true)]);
          locked.push(state);
        } catch (breakErr) {
          failHost(state, breakErr);
        }
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
      return { ok: false, locked, note: 'not started: another run holds a lock' };
    }
  }
  return { ok: true, locked };
}

/**
 * Releases our locks and logs the run on each host. A lock that cannot be released is not kept
 * quiet: the host's report says so and how to clear it (the run then ends with exit 3).
 */
async function releaseLocks(
  locked: HostState[],
  lock: NonNullable<ApplyOptions['lock']>,
  note?: string,
): Promise<void> {
  await Promise.all(
    locked.map(async (state) => {
      try {
        const changed = state.runner ? [...state.runner.reports.values()].filter((r) => r.status === 'changed') : [];
        const changes = changed.flatMap((r) => r.changes.map((c) => `${c.action} ${c.subject}`));
        const record = {
          when: new Date().toISOString(),
          who: `${lock.info.user}@${lock.info.machine}`,
          pid: lock.info.pid,
          command: lock.info.command,
          env: lock.info.env,
          commit: lock.info.commit(),
          status: note ?? (state.interrupted ? 'interrupted' : state.status),
          changes,
          // The tasks that changed, by the key reports and saved plans use ("<role>/<task name>").
          tasks: changed.map((r) => r.key),
        };
        if (!state.remote) throw new Error('no connection');
        await state.remote.apply(releaseOps(lock.info, lock.redact(JSON.stringify(record))));
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        const host = state.program.host;
        const prior = state.error ? `${state.error}. ` : '';
        state.status = 'failed';
        state.error =
          `${prior}${host.name}: its lock could not be released (${why}). The next run there is refused until it is cleared: ` +
          `once sure this run is over, run again with --break-lock, or remove it on the host: ssh ${host.user}@${host.address} sudo rm -rf ${LOCK_DIR}`;
      }
    }),
  );
}

async function applyPlays(
  programs: HostProgram[],
  toApply: HostState[],
  opts: ApplyOptions,
  stale: boolean,
): Promise<void> {
  const limit = pLimit(opts.forks);
  const playCount = Math.max(0, ...programs.flatMap((p) => p.plays.map((pl) => pl.index + 1)));
  plays: for (let index = 0; index < playCount; index++) {
    const participants = toApply.filter((s) => (s.status === 'pending' || s.status === 'changed') && !s.interrupted);
    const inPlay = participants.filter((s) => s.program.plays.some((p) => p.index === index));
    if (inPlay.length === 0) continue;
    const serial = inPlay[0]?.program.plays.find((p) => p.index === index)?.play.serial ?? inPlay.length;
    for (let b = 0; b < inPlay.length; b += serial) {
      if (opts.signal?.aborted) break plays;
      const batch = inPlay.slice(b, b + serial);
      await Promise.all(
        batch.map((state) =>
          limit(async () => {
            const playRun = state.program.plays.find((p) => p.index === index);
            const runner = state.runner;
            if (!playRun || !runner) return;
            if (opts.signal?.aborted) {
              state.interrupted = true;
              return;
            }
            const started = Date.now();
            opts.emit({ type: 'host-start', host: state.program.host.name, phase: 'apply' });
            try {
              const injected = injectedFailure(state.program.host.name, 'apply');
              if (injected) throw injected;
              await runner.applyPlay(playRun, stale);
              state.status = 'changed';
            } catch (err) {
              failHost(state, err);
            }
            state.durationMs += Date.now() - started;
            opts.emit({
              type: 'host-end',
              host: state.program.host.name,
              phase: 'apply',
              report: hostReport(state, 'apply'),
            });
          }),
        ),
      );
      if (batch.some(hostBroke) && b + serial < inPlay.length) {
        for (const rest of inPlay.slice(b + serial)) {
          rest.status = 'skipped';
          rest.error = `not started: an earlier batch of play "${rest.program.plays.find((p) => p.index === index)?.play.name ?? index}" failed`;
        }
        break;
      }
    }
  }
  if (opts.signal?.aborted) markInterrupted(toApply);
}

/** After Ctrl-C: a host with changes still to make says so, and whether it had changed anything. */
function markInterrupted(toApply: HostState[]): void {
  for (const s of toApply) {
    if (s.status !== 'pending' && s.status !== 'changed') continue;
    const reports = s.runner ? [...s.runner.reports.values()] : [];
    // Finished everything before Ctrl-C: nothing to say.
    if (!s.interrupted && !reports.some(notReached)) continue;
    s.interrupted = true;
    if (!reports.some((r) => r.status === 'changed')) {
      s.status = 'skipped';
      s.error = `${s.program.host.name}: interrupted (Ctrl-C) before its first change; nothing was changed on it`;
    } else {
      s.status = 'failed';
      s.error = `${s.program.host.name}: interrupted (Ctrl-C) before its remaining changes (the change in flight finished); run apply again to finish`;
    }
  }
}
