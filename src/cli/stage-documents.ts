import { Writable } from 'node:stream';
import type { ExitCode } from './exit-codes.js';
import { write, type Io } from './io.js';
import { cliVersion } from './version.js';

/**
 * A command that applies in stages (remove-host) with --json: each stage's report is kept rather
 * than printed, and the run ends with ONE document holding them all, as every --json run does.
 * One io for every stage: the run's SSH credentials are loaded once per io (see ssh-auth.ts).
 */
export class StageDocuments {
  readonly io: Io;
  readonly #stages: Array<{ step: string; report: unknown }> = [];
  #text = '';

  constructor(
    private readonly real: Io,
    private readonly command: string,
  ) {
    const sink = new Writable({
      write: (chunk: Buffer | string, _encoding, done) => {
        this.#text += chunk.toString();
        done();
      },
    });
    this.io = { ...real, stdout: sink };
  }

  /** The report the stage just printed, under its name. */
  endStage(step: string): void {
    const text = this.#text.trim();
    this.#text = '';
    if (text !== '') this.#stages.push({ step, report: JSON.parse(text) as unknown });
  }

  /** The one document: each stage's report and the exit code of the whole. */
  print(exitCode: ExitCode, extra: Record<string, unknown>): void {
    const doc = { version: cliVersion(), command: this.command, ...extra, stages: this.#stages, exitCode };
    write(this.real.stdout, JSON.stringify(doc, null, 2));
  }
}
