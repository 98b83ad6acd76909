import { planRun } from '../../engine/run.js';
import { postWebhook, webhookBody } from '../../output/webhook.js';
import type { ExitCode } from '../exit-codes.js';
import { write, type Io } from '../io.js';
import { loadAndCompile } from '../load.js';
import type { RunCliOptions } from '../options.js';
import { RunOutput } from '../run-output.js';
import { runConnector } from '../ssh-auth.js';
import { planExitCode } from './plan.js';

export interface DriftCliOptions extends RunCliOptions {
  webhook?: string;
}

/**
 * The nightly check: plans every host, changes nothing, takes no lock, asks nothing.
 * 0 no drift, 2 drift, 3 a host could not be checked (the others are still reported), 1 bad input.
 */
export async function driftCommand(env: string, opts: DriftCliOptions, io: Io): Promise<ExitCode> {
  const { project, programs } = loadAndCompile(env, opts, io);
  const connect = await runConnector(project.inventory, io);
  // A cron mail wants the drift, not progress lines: progress only on a terminal.
  const out = new RunOutput(io, opts, { quietOffTerminal: true });
  const report = await planRun(project, programs, { forks: opts.forks, connect, emit: out.emit }, 'drift');
  const code = planExitCode(report);
  out.print(report, code);
  if (opts.webhook && code !== 0) {
    // The text goes through the same masking as everything else this process writes.
    const { text } = webhookBody(report, code);
    const masked = io.redact ? io.redact(text) : text;
    const problem = await postWebhook(opts.webhook, { text: masked, content: masked });
    write(
      io.stderr,
      problem ? `drift: ${problem} (the report above is complete)` : 'drift: summary posted to the webhook',
    );
  }
  return code;
}
