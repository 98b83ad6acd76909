import type { z } from 'zod';
import type { HostFacts } from '../facts/host-facts.js';
import type { Fact, FactReader } from '../facts/fact.js';
import type { PlanResult } from './change.js';

/** Everything a module may know about where it runs, besides its arguments and facts. */
export interface TaskContext {
  host: string;
  /** Directory of the role the task comes from (for `src:` files). */
  roleDir: string;
  /** Reads a file of the role, relative to its files/ folder; throws a user-facing error if missing. */
  readRoleFile(relative: string): Buffer;
  /** Facts about the host (CPU, memory, release); present once the host has been contacted. */
  hostFacts?: HostFacts;
  /** Reading state for a plan: nothing has been applied yet, so do not wait for anything (a check tries once). */
  planning?: boolean;
  /** Variables and inventory data the task was rendered with (templates see the same, plus facts). */
  vars: Record<string, unknown>;
}

/**
 * A module: typed arguments, the facts it needs, and a pure planner. A module never talks to
 * the network and never prints.
 */
export interface Module<A> {
  name: string;
  description: string;
  args: z.ZodType<A>;
  /**
   * Read this task's state right before applying it, not ahead with the tasks before it: a
   * health check must see what those tasks just changed (and may wait for it).
   */
  atItsTurn?: boolean;
  /** Prepares arguments once, before any host is contacted (e.g. reads a role file). */
  prepare?(args: A, ctx: TaskContext): A;
  facts(args: A, ctx: TaskContext): Fact<unknown>[];
  plan(args: A, facts: FactReader, ctx: TaskContext): PlanResult;
}

/** Erases the argument type so modules can live in one registry. */
export type AnyModule = Module<unknown>;

export function defineModule<A>(m: Module<A>): AnyModule {
  return m;
}
