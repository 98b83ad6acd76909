import type { Project } from '../../config/model.js';
import type { HostProgram } from '../../engine/program.js';
import type { RunReport } from '../../engine/report.js';
import { applyRun } from '../../engine/run.js';
import { renderReport } from '../../output/human.js';
import { troubledHosts } from '../../output/summary.js';
import { UsageError } from '../errors.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { write, type Io } from '../io.js';
import { loadAndCompile } from '../load.js';
import type { RunCliOptions } from '../options.js';
import { confirm } from '../prompt.js';
import { runInfo } from '../run-info.js';
import { RunOutput } from '../run-output.js';
import { runConnector } from '../ssh-auth.js';

export interface ApplyCliOptions extends RunCliOptions {
  yes?: boolean;
  breakLock?: boolean;
}

/** apply, add-host and remove-host change hosts: without --yes they need someone to answer. */
export function requireYesOffTerminal(opts: { yes?: boolean }, io: Io, command: string): void {
  if (!opts.yes && !(io.stdinIsTTY && io.stderrIsTTY)) {
    throw new UsageError(`${command} needs --yes when not run on a terminal (nothing was changed)`);
  }
}

/** Shows the plan, asks (on a terminal) unless --yes, applies. 0 done, 3 a host failed. */
export async function applyCommand(env: string, opts: ApplyCliOptions, io: Io, argv: readonly string[] = ['apply', env]): Promise<ExitCode> {
  requireYesOffTerminal(opts, io, 'apply');
  const { project, programs } = loadAndCompile(env, opts, io);
  const { code } = await applyPrograms(project, programs, opts, io, argv);
  return code;
}

/**
 * The apply every changing command shares: plan, show and confirm, lock, apply, log, print.
 * Returns the exit code and the result (undefined when the user said no).
 */
export async function applyPrograms(
  project: Project,
  programs: HostProgram[],
  opts: ApplyCliOptions,
  io: Io,
  argv: readonly string[],
  question = (p: RunReport) => `Apply these changes to ${p.hosts.filter((h) => h.status === 'pending').length} host(s) of ${p.env}?`,
): Promise<{ code: ExitCode; result?: RunReport }> {
  const connect = await runConnector(project.inventory, io);
  const out = new RunOutput(io, opts, programs.length);
  const { result } = await applyRun(project, programs, {
    forks: opts.forks,
    connect,
    emit: out.emit,
    lock: { info: runInfo(project.inventory.name, argv, opts.project ?? io.cwd), breakLock: opts.breakLock === true, redact: io.redact ?? ((t) => t) },
    ...(opts.yes
      ? {}
      : {
          confirm: async (p) => {
            out.progress?.finish();
            write(io.stderr, renderReport(p, { style: out.style, verbose: opts.verbose === true }));
            const ok = await confirm(io, question(p));
            if (!ok) write(io.stderr, 'Cancelled: nothing was changed.');
            return ok;
          },
        }),
  });
  // No result: the user said no (the plan was shown with the question).
  if (!result) return { code: EXIT.INVALID };
  const code = troubledHosts(result).length > 0 ? EXIT.HOST_FAILED : EXIT.OK;
  out.print(result, code);
  return { code, result };
}
