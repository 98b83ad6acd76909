import type { EngineEvent } from '../engine/events.js';
import type { RunReport } from '../engine/report.js';
import { renderReport } from '../output/human.js';
import { renderJson } from '../output/json.js';
import { Progress, progressMode } from '../output/progress.js';
import { makeStyle } from '../output/style.js';
import { write, type Io } from './io.js';
import type { ProjectOptions } from './options.js';
import { cliVersion } from './version.js';

/** The pieces plan, apply and drift share: progress while running, the report at the end. */
export class RunOutput {
  readonly style;
  readonly progress: Progress | undefined;

  constructor(
    private readonly io: Io,
    private readonly opts: ProjectOptions,
    behaviour: { quietOffTerminal?: boolean } = {},
  ) {
    this.style = makeStyle({ color: opts.color, isTTY: io.stdoutIsTTY });
    const progressStyle = makeStyle({ color: opts.color, isTTY: io.stderrIsTTY });
    // JSON consumers get only the document; people get progress on stderr.
    const mode = progressMode({
      json: opts.json === true,
      stdoutIsTTY: io.stdoutIsTTY,
      stderrIsTTY: io.stderrIsTTY,
      ...behaviour,
    });
    this.progress = mode === 'none' ? undefined : new Progress(io.stderr, mode, progressStyle);
  }

  emit = (e: EngineEvent): void => {
    this.progress?.handle(e);
  };

  print(report: RunReport, exitCode: number, extra: Record<string, unknown> = {}): void {
    this.progress?.finish();
    if (this.opts.json) write(this.io.stdout, renderJson(report, exitCode, cliVersion(), extra));
    else write(this.io.stdout, renderReport(report, { style: this.style, verbose: this.opts.verbose === true }));
  }
}
