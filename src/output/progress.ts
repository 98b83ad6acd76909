import type { ChalkInstance } from 'chalk';
import type { EngineEvent } from '../engine/events.js';
import { advance, emptyProgress, plainLine, renderLive } from './live-view.js';

/**
 * How progress is shown on stderr: redrawn in place on a terminal, a plain line per host event
 * where the output is kept (a pipe, a log file, CI, cron mail), nothing when a script reads JSON.
 */
export type ProgressMode = 'live' | 'lines' | 'none';

/**
 * The choice: live only when both stdout and stderr are a terminal (`apply | tee log` keeps plain
 * lines: a redrawn view would fill the log with cursor codes); none with --json (the document is
 * the whole output) or when the command is quiet off a terminal (drift: cron mails only problems).
 */
export function progressMode(o: {
  json: boolean;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  quietOffTerminal?: boolean;
}): ProgressMode {
  if (o.json) return 'none';
  if (o.stdoutIsTTY && o.stderrIsTTY) return 'live';
  return o.quietOffTerminal === true && !o.stderrIsTTY ? 'none' : 'lines';
}

/** Per-host progress on stderr, in the given mode. */
export class Progress {
  private readonly state = emptyProgress();
  /** Lines of the live view on screen (the cursor is just below them). */
  private drawn = 0;

  constructor(
    private readonly out: NodeJS.WritableStream & { columns?: number },
    private readonly mode: Exclude<ProgressMode, 'none'>,
    private readonly style: ChalkInstance,
  ) {}

  handle = (e: EngineEvent): void => {
    advance(this.state, e);
    if (this.mode === 'lines') {
      const line = plainLine(e);
      if (line !== undefined) this.out.write(`${line}\n`);
      return;
    }
    // A burst of task reports (a plan's) is drawn once, at the host's end.
    if (e.type === 'task' && e.phase === 'plan') return;
    this.draw();
  };

  private draw(): void {
    const lines = renderLive(this.state, this.style, this.out.columns ?? 80);
    this.out.write(`${this.clearCodes()}${lines.map((l) => `${l}\n`).join('')}`);
    this.drawn = lines.length;
  }

  /** Cursor up over the view drawn last, then clear to the end of the screen. */
  private clearCodes(): string {
    return this.drawn > 0 ? `\x1b[${this.drawn}A\r\x1b[J` : '';
  }

  /** Clears the live view before the report (or a question) is printed. */
  finish(): void {
    if (this.mode === 'live' && this.drawn > 0) this.out.write(this.clearCodes());
    this.drawn = 0;
  }
}
