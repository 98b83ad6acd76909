import { factReader } from '../facts/fact.js';
import { PlanError, type PlanResult } from '../modules/change.js';
import type { TaskContext } from '../modules/module.js';
import type { FactOutcome } from '../transport/host.js';
import type { CompiledTask } from './program.js';

export type TaskPlan = PlanResult | { status: 'failed'; error: string };

/** Pure: plans one task from probed facts. Problems of the host's state become a failed plan, not a crash. */
export function planTask(task: CompiledTask, facts: ReadonlyMap<string, FactOutcome>, ctx: TaskContext): TaskPlan {
  const values = new Map<string, unknown>();
  for (const fact of task.module.facts(task.args, ctx)) {
    const outcome = facts.get(fact.id);
    if (!outcome) return { status: 'failed', error: `internal error: fact ${fact.id} was not probed` };
    if (!outcome.ok) return { status: 'failed', error: `could not read the host's state: ${outcome.error}` };
    values.set(fact.id, outcome.value);
  }
  try {
    return task.module.plan(task.args, factReader(values), ctx);
  } catch (err) {
    if (err instanceof PlanError) return { status: 'failed', error: err.message };
    throw err;
  }
}
