import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { ExitCode } from './exit-codes.js';
import { write, type Io } from './io.js';
import { cliVersion } from './version.js';

/** Whether the run asked for JSON: `--json` among our own words (not in a `run` command after `--`). */
export function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}

/** Why a run ended without its command's own document. */
export interface JsonProblem {
  kind: 'usage' | 'config' | 'internal';
  message: string;
  diagnostics?: Diagnostic[];
}

/**
 * With --json, a script reads stdout as ONE JSON document whatever happens: the command's report,
 * or, when the run stopped before it (bad flags, a broken inventory, a bug), a document saying why,
 * with the same `version` and `exitCode` fields. Tracks whether the command wrote its document.
 */
export class JsonOutcome {
  #wrote = false;
  /** What commander would have printed on stderr (its own usage errors), kept for the document. */
  #commanderText = '';

  /** The io the commands get: its stdout notes that their document was written. */
  track(io: Io): Io {
    const stdout = io.stdout;
    const noted = new Proxy(stdout, {
      get: (target, prop) => {
        if (prop === 'write') {
          return (...args: unknown[]) => {
            this.#wrote = true;
            return (target.write as (...a: unknown[]) => boolean)(...args);
          };
        }
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    return { ...io, stdout: noted };
  }

  commanderOutput = (text: string): void => {
    this.#commanderText += text;
  };

  /** commander's message, without its "error: " prefix. */
  get commanderMessage(): string {
    return this.#commanderText.trim().replace(/^error: /, '');
  }

  /**
   * The run ended with `code`: if the command wrote no document, one is written now (with the
   * problem, if there was one). If it did, a problem goes to stderr as text rather than a second document.
   */
  finish(io: Io, code: ExitCode, problem?: JsonProblem): void {
    if (this.#wrote) {
      if (problem) write(io.stderr, `error: ${problem.message}`);
      return;
    }
    const doc = { version: cliVersion(), ok: code === 0, exitCode: code, ...(problem ? { error: problem } : {}) };
    write(io.stdout, JSON.stringify(doc, null, 2));
  }
}
