import { resolve } from 'node:path';
import { inputsHash, approvalKey } from '../../engine/inputs-hash.js';
import { planWithApproval } from '../../engine/run.js';
import { problemsOf, type RunReport } from '../../engine/report.js';
import { changeCounts, totalChanges, troubledHosts } from '../../output/summary.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { write, type Io } from '../io.js';
import { compileWith, loadWithSecrets } from '../load.js';
import { writePlanFile } from '../plan-file.js';
import { runInfo } from '../run-info.js';
import type { RunCliOptions } from '../options.js';
import { RunOutput } from '../run-output.js';
import { runConnector } from '../ssh-auth.js';

/**
 * 0 no changes, 2 changes pending or a problem that needs a person, 3 a host failed or was
 * unreachable (1 is raised earlier for bad input).
 */
export function planExitCode(report: RunReport): ExitCode {
  if (troubledHosts(report).length > 0) return EXIT.HOST_FAILED;
  const pending =
    totalChanges(changeCounts(report.hosts, ['pending'])) > 0 ||
    report.hosts.some((h) => h.tasks.some((t) => t.status === 'deferred'));
  return pending || problemsOf(report).length > 0 ? EXIT.CHANGES : EXIT.OK;
}

export interface PlanCliOptions extends RunCliOptions {
  /** Save the plan to this file, for `apply FILE`. */
  out?: string;
}

export async function planCommand(env: string, opts: PlanCliOptions, io: Io): Promise<ExitCode> {
  const { project, secrets } = loadWithSecrets(env, opts, io);
  const programs = compileWith(project, secrets, opts);
  const connect = await runConnector(project.inventory, io);
  const out = new RunOutput(io, opts);
  const key = opts.out !== undefined ? approvalKey(secrets, project) : undefined;
  const { report, approval } = await planWithApproval(
    project,
    programs,
    { forks: opts.forks, connect, emit: out.emit },
    key,
  );
  const code = planExitCode(report);
  out.print(report, code);
  if (opts.out !== undefined && key) {
    const file = resolve(io.cwd, opts.out);
    if (code === EXIT.HOST_FAILED) {
      write(
        io.stderr,
        `plan: not saved to ${file}: a host failed or was unreachable, so this plan cannot be applied as it is`,
      );
      return code;
    }
    writePlanFile(file, {
      createdAt: new Date().toISOString(),
      env,
      projectDir: resolve(opts.project ?? io.cwd),
      inventory: project.inventory.file,
      playbook: project.playbookFile,
      ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
      ...(opts.tags !== undefined ? { tags: opts.tags } : {}),
      ...(opts.skipTags !== undefined ? { skipTags: opts.skipTags } : {}),
      ...(opts.startAtTask !== undefined ? { startAtTask: opts.startAtTask } : {}),
      ...(project.extraVars && Object.keys(project.extraVars).length > 0 ? { extraVars: project.extraVars } : {}),
      commit: runInfo(project.inventory.name, [], opts.project ?? io.cwd).commit(),
      inputsHash: inputsHash(project, key),
      approval,
      report,
    });
    write(io.stderr, `plan: saved to ${file}; apply exactly this with: kanka-infra apply ${opts.out}`);
  }
  return code;
}
