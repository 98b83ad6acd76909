import { applyRun } from '../../engine/run.js';
import { troubledHosts } from '../../output/summary.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { write, type Io } from '../io.js';
import { loadAndCompile } from '../load.js';
import type { RunCliOptions } from '../options.js';
import { confirm } from '../prompt.js';
import { RunOutput } from '../run-output.js';
import { renderReport } from '../../output/human.js';
import { UsageError } from '../errors.js';
import { runInfo } from '../run-info.js';

export interface ApplyCliOptions extends RunCliOptions {
  yes?: boolean;
  breakLock?: boolean;
}

/** Shows the plan, asks (on a terminal) unless --yes, applies. 0 done, 3 a host failed. */
export async function applyCommand(env: string, opts: ApplyCliOptions, io: Io, argv: readonly string[] = ['apply', env]): Promise<ExitCode> {
  const interactive = io.stdinIsTTY && io.stderrIsTTY;
  if (!opts.yes && !interactive) {
    throw new UsageError('apply needs --yes when not run on a terminal (nothing was changed)');
  }
  const { project, programs } = loadAndCompile(env, opts, io);
  const out = new RunOutput(io, opts, programs.length);
  const { result } = await applyRun(project, programs, {
    forks: opts.forks,
    connect: out.connect,
    emit: out.emit,
    lock: { info: runInfo(project.inventory.name, argv, opts.project ?? io.cwd), breakLock: opts.breakLock === true, redact: io.redact ?? ((t) => t) },
    ...(opts.yes
      ? {}
      : {
          confirm: async (p) => {
            out.progress?.finish();
            write(io.stderr, renderReport(p, { style: out.style, verbose: opts.verbose === true }));
            const ok = await confirm(io, `Apply these changes to ${p.hosts.filter((h) => h.status === 'pending').length} host(s) of ${p.env}?`);
            if (!ok) write(io.stderr, 'Apply cancelled: nothing was changed.');
            return ok;
          },
        }),
  });
  // No result: the user said no (the plan was shown with the question).
  if (!result) return EXIT.INVALID;
  const code = troubledHosts(result).length > 0 ? EXIT.HOST_FAILED : EXIT.OK;
  out.print(result, code);
  return code;
}
