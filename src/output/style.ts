import { Chalk, type ChalkInstance } from 'chalk';

/** Colours only on a terminal, and never with --no-color or NO_COLOR (https://no-color.org). */
export function makeStyle(opts: { color: boolean | undefined; isTTY: boolean }): ChalkInstance {
  const noColorEnv = process.env['NO_COLOR'] !== undefined && process.env['NO_COLOR'] !== '';
  const enabled = opts.color !== false && !noColorEnv && opts.isTTY;
  return new Chalk({ level: enabled ? 1 : 0 });
}
