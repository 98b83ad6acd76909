import type { ChalkInstance } from 'chalk';
import type { EngineEvent } from '../engine/events.js';

/**
 * Per-host progress on stderr: one live line on a terminal, a plain line per finished host
 * otherwise (cron mail, CI logs).
 */
export class Progress {
  private running = new Set<string>();
  private done = 0;
  private shown = false;

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly live: boolean,
    private readonly total: number,
    private readonly style: ChalkInstance,
  ) {}

  handle = (e: EngineEvent): void => {
    if (e.type === 'host-start') {
      this.running.add(e.host);
    } else if (e.type === 'host-end') {
      this.running.delete(e.host);
      this.done++;
      if (!this.live) {
        const r = e.report;
        const changes = r.tasks.reduce((n, t) => n + t.changes.length, 0);
        const what =
          r.status === 'unreachable' || r.status === 'failed'
            ? `${r.status}: ${r.error ?? ''}`
            : `${r.status}, ${changes} change(s)`;
        this.out.write(`${e.phase} ${e.host}: ${what} (${(r.durationMs / 1000).toFixed(1)} s)\n`);
      }
    }
    if (this.live) this.draw(e.phase);
  };

  private draw(phase: string): void {
    const names = [...this.running].slice(0, 4).join(', ') + (this.running.size > 4 ? ', …' : '');
    const line = `${this.style.cyan(phase)} ${Math.min(this.done, this.total)}/${this.total} hosts done${names ? this.style.dim(` · working on ${names}`) : ''}`;
    this.out.write(`\r\x1b[K${line}`);
    this.shown = true;
  }

  /** Clears the live line before the report is printed. */
  finish(): void {
    if (this.live && this.shown) this.out.write('\r\x1b[K');
    this.shown = false;
  }
}
