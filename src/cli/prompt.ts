import { createInterface } from 'node:readline/promises';
import type { Io } from './io.js';

/** Asks on the terminal; only an explicit "yes" goes on. */
export async function confirm(io: Io, question: string): Promise<boolean> {
  const rl = createInterface({ input: io.stdin, output: io.stderr, terminal: io.stdinIsTTY });
  try {
    const answer = await rl.question(`${question} Only "yes" is accepted: `);
    return answer.trim().toLowerCase() === 'yes';
  } finally {
    rl.close();
  }
}
