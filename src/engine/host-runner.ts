import type { Fact } from '../facts/fact.js';
import type { FileState } from '../facts/file.js';
import { hostFactsFact, type HostFacts } from '../facts/host-facts.js';
import type { Change } from '../modules/change.js';
import type { TaskContext } from '../modules/module.js';
import type { Op } from '../modules/ops.js';
import { RemoteError, type FactOutcome, type RemoteHost } from '../transport/host.js';
import type { EventSink, Phase } from './events.js';
import { handlerKey, parsePending, pendingFact, pendingOps, resolveHandler } from './pending-handlers.js';
import { planTask, taskFacts, type TaskPlan } from './plan-task.js';
import type { CompiledTask, HostProgram, PlayRun } from './program.js';
import { allTasks } from './program.js';
import type { TaskReport } from './report.js';
import { changeView, taskText } from './sensitive-view.js';
import { approveTask, type HostApproval } from './approval.js';
import { taskHasWork } from './status.js';

/** Drives one host: facts, one batched probe, pure planning, then applying only the changes. */
export class HostRunner {
  readonly reports = new Map<string, TaskReport>();
  private hostFacts: HostFacts | undefined;
  private plans = new Map<string, TaskPlan>();
  /**
   * Changes applied to the host so far (plus one when the whole plan went stale waiting for a
   * confirmation or a lock), and the count each task's plan was made at: a plan made before the
   * latest change is read again before it is used.
   */
  private changeCount = 0;
  private plannedAt = new Map<string, number>();
  private staleMarked = false;
  /** Handlers notified and not yet run, as recorded on the host ("role\thandler"). */
  private pending = new Set<string>();

  constructor(
    readonly program: HostProgram,
    readonly remote: RemoteHost,
    private readonly emit: EventSink,
    /** A health check's finding in a plan waits for the changes before it (drift: reported as it is). */
    private readonly deferProblems = true,
  ) {}

  private get host(): string {
    return this.program.host.name;
  }

  private taskStarted = 0;
  /**
   * Probes look without waiting (a check tries once), except for a task being applied right now:
   * then a check may wait for what the tasks before it just changed.
   */
  private ctx(task: CompiledTask, atItsTurn = false): TaskContext {
    return { ...task.context, ...(this.hostFacts ? { hostFacts: this.hostFacts } : {}), planning: !atItsTurn };
  }

  /** The task's facts, or none if they cannot be named (planTask then reports why). */
  private factsOf(task: CompiledTask, atItsTurn = false): Fact<unknown>[] {
    const wanted = taskFacts(task, this.ctx(task, atItsTurn));
    return 'facts' in wanted ? wanted.facts : [];
  }

  /** Plan phase: one round trip for a host where nothing changed; one more if a template changed (its old content, for the diff). */
  async plan(): Promise<void> {
    // ONE round trip reads everything: host facts, pending handlers, every task's and handler's
    // facts (no module needs host facts to name its facts; templates render afterwards).
    const handlers = this.program.plays.flatMap((p) => p.roles.flatMap((r) => r.handlers));
    const probed = await this.remote.probe([
      hostFactsFact,
      pendingFact,
      ...allTasks(this.program).flatMap((t) => this.factsOf(t)),
      ...handlers.flatMap((h) => this.factsOf(h)),
    ]);
    const hf = probed.get(hostFactsFact.id);
    if (!hf?.ok) throw new RemoteError(`could not read host facts: ${hf && !hf.ok ? hf.error : 'no output'}`, 1, '');
    this.hostFacts = hf.value as HostFacts;
    this.pending = parsePending(valueOf<FileState>(probed, pendingFact.id) ?? { type: 'absent' });
    const planned = await this.planTasks([...allTasks(this.program), ...handlers], probed);
    for (const key of planned.keys()) this.plannedAt.set(key, this.changeCount);
    let firstChange: CompiledTask | undefined;
    for (const play of this.program.plays) {
      // Same order as apply: after each role, every handler of the play that is due.
      const notified = new Map<string, string>();
      const reported = new Set<string>();
      for (const role of play.roles) {
        for (const task of role.tasks) {
          const plan = planned.get(task.key) ?? missingPlan(task);
          this.plans.set(task.key, plan);
          this.record(this.toReport(task, plan, 'plan', firstChange), 'plan');
          if (plan.status === 'change') {
            firstChange ??= task;
            for (const n of task.notify) {
              const h = resolveHandler(play, task.role, n);
              if (h && !notified.has(handlerKey(h))) notified.set(handlerKey(h), `notified by "${task.name}"`);
            }
          }
        }
        for (const h of play.roles.flatMap((r) => r.handlers)) {
          const key = handlerKey(h);
          const why =
            notified.get(key) ??
            (this.pending.has(key) ? 'pending from an earlier run that did not finish' : undefined);
          if (!why || reported.has(key)) continue;
          reported.add(key);
          const plan = planned.get(h.key) ?? missingPlan(h);
          const report = this.toReport(h, plan, 'plan', firstChange);
          // A handler that is due always counts as a change: it will run.
          const due: TaskReport =
            report.status === 'ok'
              ? {
                  ...report,
                  status: 'pending',
                  changes: [{ action: 'run', subject: `handler "${h.name}"`, details: [why] }],
                }
              : { ...report, changes: report.changes.map((c) => ({ ...c, details: [...c.details, why] })) };
          this.record({ ...due, handler: true }, 'plan');
        }
      }
    }
  }

  private record(report: TaskReport, phase: Phase): void {
    this.reports.set(report.key, report);
    this.emit({ type: 'task', host: this.host, phase, task: report });
  }

  get hasChanges(): boolean {
    return [...this.reports.values()].some(taskHasWork);
  }

  /** Indexes of the plays in which this host has something to do (pending or deferred). */
  get playsWithChanges(): number[] {
    return this.program.plays
      .filter((p) =>
        p.roles.some((r) =>
          [...r.tasks, ...r.handlers].some((t) => {
            const report = this.reports.get(t.key);
            return report !== undefined && taskHasWork(report);
          }),
        ),
      )
      .map((p) => p.index);
  }

  /** Whether every failure of the plan is a task read at its turn (a health check). */
  get onlyChecksFailed(): boolean {
    const failed = allTasks(this.program).filter((t) => this.reports.get(t.key)?.status === 'failed');
    return failed.length > 0 && failed.every((t) => t.module.atItsTurn === true);
  }

  /**
   * A health check that fails in the plan while another host has changes planned in the same play or
   * an earlier one (a frontend's check while its backend is still to be set up) is not a failure yet:
   * it is reported as waiting for them, and apply checks it at its turn, after them.
   * `changesBefore(play)` names such a host, if any.
   */
  deferChecksAfterOtherHosts(changesBefore: (playIndex: number) => string | undefined): void {
    for (const play of this.program.plays) {
      const who = changesBefore(play.index);
      if (!who) continue;
      for (const task of play.roles.flatMap((r) => r.tasks)) {
        const report = this.reports.get(task.key);
        if (
          !task.module.atItsTurn ||
          (report?.status !== 'failed' && !(report?.status === 'problem' && this.deferProblems))
        )
          continue;
        const { error, problem, ...rest } = report;
        this.reports.set(task.key, {
          ...rest,
          status: 'deferred',
          reason: `after the changes planned on ${who}: ${error ?? problem?.message ?? 'failed now'}`,
        });
      }
    }
  }

  /** Whether a task read at its turn (a health check) found a problem: it may wait for other hosts' changes. */
  get hasCheckProblems(): boolean {
    return allTasks(this.program).some(
      (t) => t.module.atItsTurn === true && this.reports.get(t.key)?.status === 'problem',
    );
  }

  /** What the current plan is, as an operator approves it (see approval.ts). */
  approval(key: Buffer): HostApproval {
    // Health checks change nothing and are read again at their turn anyway: a check that passes a
    // second later must not make the plan "moved".
    const checks = new Set(
      allTasks(this.program)
        .filter((t) => t.module.atItsTurn === true)
        .map((t) => t.key),
    );
    const out: HostApproval = {};
    for (const [taskKey, report] of this.reports)
      if (!checks.has(taskKey)) out[taskKey] = approveTask(report, this.plans.get(taskKey), key);
    return out;
  }

  get hasFailures(): boolean {
    return [...this.reports.values()].some((r) => r.status === 'failed');
  }

  /**
   * Apply phase for one play. Handlers run after each role, for every notification so far
   * (and those left pending by an earlier run), in the order the roles define them.
   * `stale`: the plan is old (someone was asked to confirm): re-probe before acting.
   */
  async applyPlay(play: PlayRun, stale: boolean): Promise<void> {
    if (stale && !this.staleMarked) {
      this.changeCount++;
      this.staleMarked = true;
    }
    for (const role of play.roles) {
      for (const [i, task] of role.tasks.entries()) await this.applyTask(play, task, role.tasks.slice(i));
      for (const r of play.roles) {
        for (const h of r.handlers) if (this.pending.has(handlerKey(h))) await this.applyHandler(h);
      }
    }
  }

  /** `rest`: this task and the ones after it in its role, re-read together when their plans are old. */
  private async applyTask(play: PlayRun, task: CompiledTask, rest: CompiledTask[]): Promise<void> {
    this.started(task, false);
    if (this.plannedAt.get(task.key) !== this.changeCount) await this.replan(rest);
    // A task whose state must be read at its turn (a health check waits for what was just changed).
    if (task.module.atItsTurn) {
      const fresh = await this.planTasks([task], await this.remote.probe(this.factsOf(task, true)), true);
      this.plans.set(task.key, fresh.get(task.key) ?? missingPlan(task));
    }
    const plan = this.plans.get(task.key);
    if (!plan) throw new Error(`internal error: task ${task.key} has no plan`);
    const notify = task.notify
      .map((n) => resolveHandler(play, task.role, n))
      .filter((h): h is CompiledTask => h !== undefined);
    const nextPending = new Set([...this.pending, ...notify.map(handlerKey)]);
    // The record of the handlers to run travels in the same script as the change.
    const extra = plan.status === 'change' && nextPending.size > this.pending.size ? pendingOps(nextPending) : [];
    await this.run(task, plan, extra, false);
    if (plan.status === 'change') this.pending = nextPending;
  }

  private async applyHandler(h: CompiledTask): Promise<void> {
    this.started(h, true);
    const plan =
      (await this.planTasks([h], await this.remote.probe(this.factsOf(h, true)), true)).get(h.key) ?? missingPlan(h);
    const nextPending = new Set([...this.pending].filter((k) => k !== handlerKey(h)));
    await this.run(h, plan, pendingOps(nextPending), true);
    this.pending = nextPending;
  }

  private started(task: CompiledTask, handler: boolean): void {
    this.taskStarted = Date.now();
    const { key, role, name } = task;
    this.emit({ type: 'task-start', host: this.host, phase: 'apply', task: { key, role, name, handler } });
  }

  /** Runs a planned task (with extra bookkeeping ops); a failure ends this host's run. */
  private async run(task: CompiledTask, plan: TaskPlan, extra: Op[], handler: boolean): Promise<void> {
    let report: TaskReport = { ...this.toReport(task, plan, 'apply'), handler };
    const ops = plan.status === 'change' ? [...plan.changes.flatMap((c: Change) => c.ops), ...extra] : extra;
    if (plan.status !== 'failed' && ops.length > 0) {
      try {
        // One round trip per changed task: all its ops in one script.
        await this.remote.apply(ops);
        if (plan.status === 'change') {
          this.changeCount++;
          report = { ...report, status: 'changed' };
        }
      } catch (err) {
        if (!(err instanceof RemoteError)) throw err;
        report = {
          ...report,
          status: 'failed',
          error: taskText(err.message, task.sensitive, 'failed (output hidden: sensitive task)'),
        };
      }
    }
    this.record({ ...report, durationMs: Date.now() - this.taskStarted }, 'apply');
    if (report.status === 'failed') {
      throw new TaskFailed(task, report.error ?? 'failed');
    }
  }

  /**
   * Plans tasks from probed facts; those that need more (a changed file's old content for the
   * diff) get it in ONE more round trip, for all of them together.
   */
  private async planTasks(
    tasks: CompiledTask[],
    probed: Map<string, FactOutcome>,
    atItsTurn = false,
  ): Promise<Map<string, TaskPlan>> {
    const plans = new Map(tasks.map((t) => [t.key, planTask(t, probed, this.ctx(t, atItsTurn))]));
    const needs = [...plans.values()].flatMap((p) => (p.status === 'need' ? p.facts : []));
    if (needs.length === 0) return plans;
    const more = await this.remote.probe(needs);
    const all = new Map([...probed, ...more]);
    for (const t of tasks) {
      if (plans.get(t.key)?.status !== 'need') continue;
      const again = planTask(t, all, this.ctx(t, atItsTurn));
      plans.set(
        t.key,
        again.status === 'need'
          ? {
              status: 'failed',
              error: `internal error: ${t.module.name} still needs ${again.facts.map((f) => f.id).join(', ')}`,
            }
          : again,
      );
    }
    return plans;
  }

  /**
   * After a change the probed state is old: re-read the facts of the given tasks (the rest of
   * the current role) in one round trip and plan them again. Later roles are re-read when
   * reached, so a run of many changes does not re-probe the whole program after each one.
   */
  private async replan(tasks: CompiledTask[]): Promise<void> {
    // Tasks read at their turn (health checks) are read then anyway: not here as well.
    const now = tasks.filter((t) => !t.module.atItsTurn);
    for (const t of tasks) this.plannedAt.set(t.key, this.changeCount);
    if (now.length === 0) return;
    const probed = await this.remote.probe(now.flatMap((t) => this.factsOf(t)));
    for (const [key, plan] of await this.planTasks(now, probed)) this.plans.set(key, plan);
  }

  private toReport(task: CompiledTask, plan: TaskPlan, phase: Phase, after?: CompiledTask): TaskReport {
    const base = {
      key: task.key,
      role: task.role,
      name: task.name,
      module: task.module.name,
      handler: false,
      source: `${task.source.file}${task.source.line !== undefined ? `:${task.source.line}` : ''}`,
    };
    const s = task.sensitive;
    if (plan.status === 'ok')
      return { ...base, status: 'ok', reason: taskText(plan.reason, s, 'nothing to do (sensitive task)'), changes: [] };
    if (plan.status === 'need')
      return { ...base, status: 'failed', error: 'internal error: planned without all its facts', changes: [] };
    if (plan.status === 'problem') {
      const message = taskText(plan.problem, s, 'a problem (details hidden: sensitive task)');
      // A health check's finding while this host still has changes to make before it may be
      // their doing (a service not installed yet): it waits for them, as a failed check does.
      if (phase === 'plan' && after && task.module.atItsTurn && this.deferProblems)
        return { ...base, status: 'deferred', reason: `after "${after.name}": ${message}`, changes: [] };
      return { ...base, status: 'problem', problem: { message, fix: taskText(plan.fix, s, '') }, changes: [] };
    }
    if (plan.status === 'failed') {
      const error = taskText(plan.error, s, 'failed (details hidden: sensitive task)');
      // Honest dry run: a task that cannot be planned until an earlier task has run is
      // reported as waiting for it, not as a failure (apply re-plans it at its turn).
      if (phase === 'plan' && after) {
        return { ...base, status: 'deferred', reason: `after "${after.name}": ${error}`, changes: [] };
      }
      return { ...base, status: 'failed', error, changes: [] };
    }
    return { ...base, status: 'pending', changes: plan.changes.map((c) => changeView(c, s)) };
  }
}

function missingPlan(task: CompiledTask): TaskPlan {
  return { status: 'failed', error: `internal error: task ${task.key} was not planned` };
}

function valueOf<T>(probed: ReadonlyMap<string, FactOutcome>, id: string): T | undefined {
  const o = probed.get(id);
  return o?.ok ? (o.value as T) : undefined;
}

export class TaskFailed extends Error {
  constructor(
    readonly task: CompiledTask,
    reason: string,
  ) {
    super(`task "${task.name}" (${task.role}) failed: ${reason}`);
  }
}
