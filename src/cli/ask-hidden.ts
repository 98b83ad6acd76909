import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import type { Io } from './io.js';

/**
 * Asks for a secret on the terminal without echoing it (the question goes to stderr).
 * Resolves undefined on end of input or Ctrl-C: the caller says what was cancelled.
 */
export function askHidden(io: Io, question: string): Promise<string | undefined> {
  let muted = false;
  // What readline echoes while the secret is typed goes nowhere.
  const output = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      if (!muted) io.stderr.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: io.stdin, output, terminal: io.stdinIsTTY });
  return new Promise((resolve) => {
    let answered = false;
    const finish = (answer: string | undefined) => {
      if (answered) return;
      answered = true;
      muted = false;
      io.stderr.write('\n');
      rl.close();
      resolve(answer);
    };
    rl.once('SIGINT', () => finish(undefined));
    rl.once('close', () => finish(undefined));
    rl.question(question, (answer) => finish(answer));
    muted = true;
  });
}
