import { PassThrough } from 'node:stream';
import type { Io } from '../../src/cli/io.js';

export interface AnsweringIo {
  io: Io;
  out: () => string;
  err: () => string;
  /** The questions asked on stderr, in order. */
  asked: () => string[];
}

/**
 * A terminal-like Io that types the next of `answers` each time a question (stderr text ending in
 * ": ") is asked, one line per question, as a person would; after the last answer, stdin ends.
 */
export function answeringIo(cwd: string, answers: readonly string[], opts: { tty?: boolean } = {}): AnsweringIo {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const stdin = new PassThrough();
  let out = '';
  let err = '';
  const asked: string[] = [];
  const left = [...answers];
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => {
    const text = d.toString();
    err += text;
    if (!text.endsWith(': ')) return;
    asked.push(text);
    const next = left.shift();
    setImmediate(() => (next === undefined ? stdin.end() : stdin.write(`${next}\n`)));
  });
  const tty = opts.tty ?? true;
  const io: Io = { stdout, stderr, stdin, stdoutIsTTY: tty, stderrIsTTY: tty, stdinIsTTY: tty, cwd };
  return { io, out: () => out, err: () => err, asked: () => asked };
}
