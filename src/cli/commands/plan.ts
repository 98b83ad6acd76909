import { planRun } from '../../engine/run.js';
import type { RunReport } from '../../engine/report.js';
import { changeCounts, totalChanges, troubledHosts } from '../../output/summary.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { Io } from '../io.js';
import { loadAndCompile } from '../load.js';
import type { RunCliOptions } from '../options.js';
import { RunOutput } from '../run-output.js';
import { runConnector } from '../ssh-auth.js';

/** 0 no changes, 2 changes pending, 3 a host failed or was unreachable (1 is raised earlier for bad input). */
export function planExitCode(report: RunReport): ExitCode {
  if (troubledHosts(report).length > 0) return EXIT.HOST_FAILED;
  const pending = totalChanges(changeCounts(report.hosts, ['pending'])) > 0 || report.hosts.some((h) => h.tasks.some((t) => t.status === 'deferred'));
  return pending ? EXIT.CHANGES : EXIT.OK;
}

export async function planCommand(env: string, opts: RunCliOptions, io: Io): Promise<ExitCode> {
  const { project, programs } = loadAndCompile(env, opts, io);
  const connect = await runConnector(project.inventory, io);
  const out = new RunOutput(io, opts, programs.length);
  const report = await planRun(project, programs, { forks: opts.forks, connect, emit: out.emit });
  const code = planExitCode(report);
  out.print(report, code);
  return code;
}
