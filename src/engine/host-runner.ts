import { hostFactsFact, type HostFacts } from '../facts/host-facts.js';
import type { Change } from '../modules/change.js';
import type { TaskContext } from '../modules/module.js';
import { RemoteError, type RemoteHost } from '../transport/host.js';
import type { EventSink, Phase } from './events.js';
import { planTask, taskFacts, type TaskPlan } from './plan-task.js';
import type { Fact } from '../facts/fact.js';
import type { CompiledTask, HostProgram, PlayRun } from './program.js';
import { allTasks } from './program.js';
import type { ChangeView, TaskReport } from './report.js';

/** Drives one host: facts, one batched probe, pure planning, then applying only the changes. */
export class HostRunner {
  readonly reports = new Map<string, TaskReport>();
  private hostFacts: HostFacts | undefined;
  private plans = new Map<string, TaskPlan>();
  /** Set once something changed on the host: later tasks must be re-probed before they are planned. */
  private dirty = false;
  failed = false;

  constructor(
    readonly program: HostProgram,
    readonly remote: RemoteHost,
    private readonly emit: EventSink,
  ) {}

  private ctx(task: CompiledTask): TaskContext {
    return this.hostFacts ? { ...task.context, hostFacts: this.hostFacts } : task.context;
  }

  /** The task's facts, or none if they cannot be named (planTask then reports why). */
  private factsOf(task: CompiledTask): Fact<unknown>[] {
    const wanted = taskFacts(task, this.ctx(task));
    return 'facts' in wanted ? wanted.facts : [];
  }

  /** Plan phase: two round trips in all (host facts, then every task's facts at once). */
  async plan(): Promise<void> {
    const facts = await this.remote.probe([hostFactsFact]);
    const hf = facts.get(hostFactsFact.id);
    if (!hf?.ok) throw new RemoteError(`could not read host facts: ${hf && !hf.ok ? hf.error : 'no output'}`, 1, '');
    this.hostFacts = hf.value as HostFacts;
    const tasks = allTasks(this.program);
    const wanted = tasks.flatMap((t) => this.factsOf(t));
    const probed = await this.remote.probe(wanted);
    let firstChange: CompiledTask | undefined;
    for (const task of tasks) {
      const plan = planTask(task, probed, this.ctx(task));
      this.plans.set(task.key, plan);
      const report = this.toReport(task, plan, 'plan', firstChange);
      this.reports.set(task.key, report);
      this.emit({ type: 'task', host: this.program.host.name, phase: 'plan', task: report });
      if (plan.status === 'change' && !firstChange) firstChange = task;
    }
  }

  get hasChanges(): boolean {
    return [...this.reports.values()].some((r) => r.status === 'pending' || r.status === 'deferred');
  }

  get hasFailures(): boolean {
    return [...this.reports.values()].some((r) => r.status === 'failed');
  }

  /** Apply phase for one play. `stale`: the plan is old (someone was asked to confirm); re-probe. */
  async applyPlay(play: PlayRun, stale: boolean): Promise<void> {
    if (stale) this.dirty = true;
    for (const role of play.roles) {
      const notified = new Set<string>();
      for (const task of role.tasks) {
        const changed = await this.applyTask(task, false);
        if (changed) task.notify.forEach((n) => notified.add(n));
      }
      for (const handler of role.handlers) {
        if (notified.has(handler.name)) await this.applyTask(handler, true);
      }
    }
  }

  private async applyTask(task: CompiledTask, handler: boolean): Promise<boolean> {
    let plan: TaskPlan | undefined;
    if (handler) {
      const ctx = this.ctx(task);
      plan = planTask(task, await this.remote.probe(this.factsOf(task)), ctx);
    } else {
      if (this.dirty) await this.replanFrom(task);
      plan = this.plans.get(task.key);
    }
    if (!plan) throw new Error(`internal error: task ${task.key} has no plan`);
    let report: TaskReport;
    if (plan.status === 'change') {
      try {
        await this.execute(plan.changes);
        this.dirty = true;
        report = { ...this.toReport(task, plan, 'apply'), status: 'changed', handler };
      } catch (err) {
        if (!(err instanceof RemoteError)) throw err;
        report = { ...this.toReport(task, plan, 'apply'), status: 'failed', error: err.message, handler };
      }
    } else {
      report = { ...this.toReport(task, plan, 'apply'), handler };
    }
    this.reports.set(task.key, report);
    this.emit({ type: 'task', host: this.program.host.name, phase: 'apply', task: report });
    if (report.status === 'failed') {
      this.failed = true;
      throw new TaskFailed(task, report.error ?? 'failed');
    }
    return report.status === 'changed';
  }

  /**
   * After a change (or a wait for confirmation) the probed state is stale: re-read the facts of
   * this task and every later one in one round trip, and plan them again.
   */
  private async replanFrom(task: CompiledTask): Promise<void> {
    const tasks = allTasks(this.program);
    const rest = tasks.slice(Math.max(0, tasks.findIndex((t) => t.key === task.key)));
    const probed = await this.remote.probe(rest.flatMap((t) => this.factsOf(t)));
    for (const t of rest) this.plans.set(t.key, planTask(t, probed, this.ctx(t)));
    this.dirty = false;
  }

  /** All ops of a task's changes at once: one round trip per changed task. */
  private execute(changes: Change[]): Promise<void> {
    return this.remote.apply(changes.flatMap((c) => c.ops));
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
    if (plan.status === 'ok') return { ...base, status: 'ok', reason: plan.reason, changes: [] };
    if (plan.status === 'failed') {
      // Honest dry run: a task that cannot be planned until an earlier task has run is
      // reported as waiting for it, not as a failure (apply re-plans it at its turn).
      if (phase === 'plan' && after) {
        return { ...base, status: 'deferred', reason: `after "${after.name}": ${plan.error}`, changes: [] };
      }
      return { ...base, status: 'failed', error: plan.error, changes: [] };
    }
    return { ...base, status: 'pending', changes: plan.changes.map(toView) };
  }
}

export class TaskFailed extends Error {
  constructor(
    readonly task: CompiledTask,
    reason: string,
  ) {
    super(`task "${task.name}" (${task.role}) failed: ${reason}`);
  }
}

function toView(c: Change): ChangeView {
  return { action: c.action, subject: c.subject, details: c.details, ...(c.diff !== undefined ? { diff: c.diff } : {}) };
}
