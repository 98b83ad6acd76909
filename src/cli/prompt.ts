import { createInterface } from 'node:readline';
import type { Io } from './io.js';

/**
 * Asks on the terminal; only an explicit "yes" goes on. The end of input (Ctrl-D, a closed pipe)
 * and Ctrl-C at the question (or a SIGINT the run received) are a "no": the caller says it cancelled.
 */
export async function confirm(io: Io, question: string): Promise<boolean> {
  const signal = io.interrupt?.signal;
  const rl = createInterface({ input: io.stdin, output: io.stderr, terminal: io.stdinIsTTY });
  try {
    const answer = await new Promise<string | undefined>((resolve) => {
      rl.once('close', () => resolve(undefined));
      rl.once('SIGINT', () => resolve(undefined));
      signal?.addEventListener('abort', () => resolve(undefined), { once: true });
      rl.question(`${question} Only "yes" is accepted: `, resolve);
    });
    if (answer === undefined) io.stderr.write('\n');
    return answer?.trim().toLowerCase() === 'yes';
  } finally {
    rl.close();
  }
}
