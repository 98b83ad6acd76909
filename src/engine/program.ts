import type { Host, Play, SourceRef } from '../config/model.js';
import type { AnyModule, TaskContext } from '../modules/module.js';

/** A task ready to run on one host: arguments rendered and validated. */
export interface CompiledTask {
  /**
   * Unique within a host's program and stable across edits of other tasks: "<role>/<task name>",
   * "<role>/handler/<name>", "[n]" after it for the n-th item of a loop, and "<play index>:" before
   * it when a later play applies the same role again on this host. load-role refuses two tasks of
   * one role with the same name.
   */
  key: string;
  role: string;
  name: string;
  module: AnyModule;
  args: unknown;
  notify: string[];
  /** What --tags and --skip-tags see: its role's name, its own tags and its play's. */
  tags: string[];
  source: SourceRef;
  context: TaskContext;
  /** Present when the task's arguments (or the task itself) are sensitive: what reports must hide. */
  sensitive?: TaskSensitivity;
}

/** Why and what to hide of a task in every output. */
export interface TaskSensitivity {
  /** `sensitive: true` on the task: hide subjects, details, diffs, reasons and errors entirely. */
  all: boolean;
  /** The secret values the task's arguments read: masked wherever they appear. */
  secrets: string[];
  /** Argument strings (whole) that derive from a secret, transformed or not: masked too. */
  strings: string[];
}

export interface RoleRun {
  role: string;
  tasks: CompiledTask[];
  handlers: CompiledTask[];
}

/** What one play does on one host. */
export interface PlayRun {
  index: number;
  play: Play;
  roles: RoleRun[];
}

/** Everything the engine will do on one host, in order. */
export interface HostProgram {
  host: Host;
  plays: PlayRun[];
}

export function allTasks(program: HostProgram): CompiledTask[] {
  return program.plays.flatMap((p) => p.roles.flatMap((r) => r.tasks));
}
