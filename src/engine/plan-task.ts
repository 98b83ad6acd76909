import { ConfigError } from '../diagnostics/diagnostic.js';
import { NeedFacts, type Fact, type FactReader } from '../facts/fact.js';
import { TemplateError } from '../template/render.js';
import { PlanError, type PlanResult } from '../modules/change.js';
import type { TaskContext } from '../modules/module.js';
import type { FactOutcome } from '../transport/host.js';
import type { CompiledTask } from './program.js';

export type TaskPlan = PlanResult | { status: 'failed'; error: string } | { status: 'need'; facts: Fact<unknown>[] };

/**
 * Pure: plans one task from probed facts. Problems of the host's state become a failed plan, not
 * a crash; a planner that wants a fact not read yet gets { status: 'need' } (see NeedFacts).
 */
export function planTask(task: CompiledTask, facts: ReadonlyMap<string, FactOutcome>, ctx: TaskContext): TaskPlan {
  const wanted = taskFacts(task, ctx);
  if ('error' in wanted) return { status: 'failed', error: wanted.error };
  for (const fact of wanted.facts) {
    const outcome = facts.get(fact.id);
    if (!outcome) return { status: 'failed', error: `internal error: fact ${fact.id} was not probed` };
    if (!outcome.ok) return { status: 'failed', error: `could not read the host's state: ${outcome.error}` };
  }
  try {
    return task.module.plan(task.args, probedReader(facts), ctx);
  } catch (err) {
    if (err instanceof NeedFacts) return { status: 'need', facts: err.facts };
    const problem = taskProblem(err);
    if (problem !== undefined) return { status: 'failed', error: problem };
    throw err;
  }
}

/** Reads probed facts; one that was not probed asks for a follow-up probe, one that failed is a plan error. */
function probedReader(facts: ReadonlyMap<string, FactOutcome>): FactReader {
  return {
    get<T>(fact: Fact<T>): T {
      const outcome = facts.get(fact.id);
      if (!outcome) throw new NeedFacts([fact]);
      if (!outcome.ok) throw new PlanError(`could not read the host's state: ${outcome.error}`);
      return outcome.value as T;
    },
  };
}

/** Errors that are the task's problem (bad template, host state) rather than a bug: their message. */
function taskProblem(err: unknown): string | undefined {
  if (err instanceof PlanError || err instanceof TemplateError) return err.message;
  if (err instanceof ConfigError) return err.message;
  return undefined;
}

/** The facts a task needs; a task whose facts cannot even be named (a template error) fails alone. */
export function taskFacts(task: CompiledTask, ctx: TaskContext): { facts: Fact<unknown>[] } | { error: string } {
  try {
    return { facts: task.module.facts(task.args, ctx) };
  } catch (err) {
    const problem = taskProblem(err);
    if (problem === undefined) throw err;
    return { error: problem };
  }
}
