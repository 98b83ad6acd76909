import type { Host, Play, SourceRef } from '../config/model.js';
import type { AnyModule, TaskContext } from '../modules/module.js';

/** A task ready to run on one host: arguments rendered and validated. */
export interface CompiledTask {
  /** Unique within a host's program: "<play>/<role>/<index>" or ".../handler/<index>". */
  key: string;
  role: string;
  name: string;
  module: AnyModule;
  args: unknown;
  notify: string[];
  tags: string[];
  source: SourceRef;
  context: TaskContext;
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
