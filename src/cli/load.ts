import { loadProject } from '../config/load-project.js';
import type { Project } from '../config/model.js';
import { compile } from '../engine/compile.js';
import type { HostProgram } from '../engine/program.js';
import type { Io } from './io.js';
import type { ProjectOptions } from './options.js';

/** Loads, validates and compiles: everything that must succeed before a host is contacted. */
export function loadAndCompile(env: string, opts: ProjectOptions, io: Io): { project: Project; programs: HostProgram[] } {
  const project = loadProject({
    env,
    projectDir: opts.project ?? io.cwd,
    ...(opts.playbook ? { playbook: opts.playbook } : {}),
  });
  const programs = compile(project, {
    ...(opts.limit ? { limit: opts.limit } : {}),
    ...(opts.tags ? { tags: opts.tags } : {}),
  });
  return { project, programs };
}
