import type { Project } from '../../config/model.js';
import type { HostProgram } from '../../engine/program.js';
import { problemsOf, type RunReport } from '../../engine/report.js';
import { randomBytes } from 'node:crypto';
import type { Approval, Moved } from '../../engine/approval.js';
import { applyRun } from '../../engine/run.js';
import { renderReport } from '../../output/human.js';
import { troubledHosts } from '../../output/summary.js';
import { UsageError } from '../../diagnostics/usage-error.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { write, type Io } from '../io.js';
import { compileWith, loadAndCompile, loadWithSecrets } from '../load.js';
import { looksLikePlanFile, readPlanFile } from '../plan-file.js';
import { approvalKey, inputsHash } from '../../engine/inputs-hash.js';
import { resolve } from 'node:path';
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
export async function applyCommand(
  env: string,
  opts: ApplyCliOptions,
  io: Io,
  argv: readonly string[] = ['apply', env],
): Promise<ExitCode> {
  const planFile = resolve(io.cwd, env);
  if (looksLikePlanFile(planFile)) return applySavedPlan(planFile, opts, io, argv);
  requireYesOffTerminal(opts, io, 'apply');
  const { project, programs } = loadAndCompile(env, opts, io);
  const { code } = await applyPrograms(project, programs, opts, io, argv);
  return code;
}

/**
 * Applies a plan saved by `plan --out`: the same configuration (its inputs hash must match), the same
 * selection, and under the locks exactly the changes it holds, or nothing. It was reviewed when it
 * was made, so there is no question.
 */
async function applySavedPlan(file: string, opts: ApplyCliOptions, io: Io, argv: readonly string[]): Promise<ExitCode> {
  const flags = {
    limit: '--limit',
    tags: '--tags',
    skipTags: '--skip-tags',
    startAtTask: '--start-at-task',
    playbook: '--playbook',
    project: '--project',
    extraVars: '-e',
  } as const;
  const given = (Object.keys(flags) as Array<keyof typeof flags>).filter((k) => opts[k] !== undefined);
  if (given.length > 0) {
    throw new UsageError(
      `a saved plan keeps the selection it was made with, and its -e variables: apply ${file} without ${given.map((k) => flags[k]).join(', ')} (nothing was changed)`,
    );
  }
  const saved = readPlanFile(file);
  const { project, secrets } = loadWithSecrets(
    saved.inventory,
    { ...opts, project: saved.projectDir, playbook: saved.playbook, extraVarValues: saved.extraVars ?? {} },
    io,
  );
  const key = approvalKey(secrets, project);
  if (inputsHash(project, key) !== saved.inputsHash) {
    const now = runInfo(project.inventory.name, [], saved.projectDir).commit();
    throw new UsageError(
      `the configuration changed since ${file} was made (commit ${saved.commit} then, ${now} now): its inventory, secrets, playbook or roles differ. Plan again and review it: kanka-infra plan ${saved.env} --out ${file} (nothing was changed)`,
    );
  }
  const programs = compileWith(project, secrets, {
    ...(saved.limit !== undefined ? { limit: saved.limit } : {}),
    ...(saved.tags !== undefined ? { tags: saved.tags } : {}),
    ...(saved.skipTags !== undefined ? { skipTags: saved.skipTags } : {}),
    ...(saved.startAtTask !== undefined ? { startAtTask: saved.startAtTask } : {}),
  });
  const { code } = await applyPrograms(project, programs, { ...opts, yes: true }, io, argv, undefined, undefined, {
    key,
    approval: saved.approval,
    file,
  });
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
  question = (p: RunReport) =>
    `Apply these changes to ${p.hosts.filter((h) => h.status === 'pending').length} host(s) of ${p.env}?`,
  approved?: () => void,
  saved?: { key: Buffer; approval: Approval; file: string },
): Promise<{ code: ExitCode; result?: RunReport }> {
  const connect = await runConnector(project.inventory, io);
  const out = new RunOutput(io, opts);
  const run = (signal?: AbortSignal) =>
    applyRun(project, programs, {
      forks: opts.forks,
      connect,
      emit: out.emit,
      ...(signal ? { signal } : {}),
      ...(approved ? { approved } : {}),
      // What was shown (or saved) is what runs: checked under the locks. A plan shown in this run
      // is compared in memory, so any key will do; a saved one was keyed by the secrets.
      approval: saved ? { key: saved.key, saved: saved.approval } : { key: randomBytes(32) },
      lock: {
        info: runInfo(project.inventory.name, argv, opts.project ?? io.cwd),
        breakLock: opts.breakLock === true,
        redact: io.redact ?? ((t) => t),
      },
      ...(opts.yes || saved
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
  // Ctrl-C during the run stops it cleanly (locks released, recap printed) rather than killing it.
  const { result, interrupted, moved } = io.interrupt ? await io.interrupt.guard(run) : await run();
  // No result: the user said no, or SIGINT came at the question (the plan was shown with it).
  if (!result) return { code: interrupted ? EXIT.INTERRUPTED : EXIT.INVALID };
  // Applied, but something still needs a person (a broken replica): 2, so a script notices.
  const code = interrupted
    ? EXIT.INTERRUPTED
    : troubledHosts(result).length > 0
      ? EXIT.HOST_FAILED
      : problemsOf(result).length > 0
        ? EXIT.CHANGES
        : EXIT.OK;
  out.print(result, code);
  if (moved) write(io.stderr, movedMessage(moved, saved?.file));
  if (interrupted)
    write(
      io.stderr,
      'Interrupted (Ctrl-C): no change was started after it; the locks taken were released (see above for any that could not be).',
    );
  return { code, result };
}

/** Why apply refused: each host and task that is not as approved, and what to do. */
function movedMessage(moved: Moved[], file: string | undefined): string {
  const what = file ? `the saved plan ${file}` : 'the plan shown';
  return [
    `Refused: nothing was changed. These are not as ${what} said (each host was read again before any change):`,
    ...moved.map((m) => `  ${m.host}  "${m.task}": planned ${m.planned}; now ${m.now}`),
    file
      ? 'Make a new plan (kanka-infra plan <env> --out <file>), review it, and apply that.'
      : 'Run apply again to see the current plan.',
  ].join('\n');
}
