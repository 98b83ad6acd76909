import type { Redactor } from '../secrets/redact.js';
import type { Io } from './io.js';

/**
 * Every byte the CLI writes passes through here: once secrets are loaded, each of their values
 * is replaced by <secret> in plans, diffs, errors, progress and JSON alike. One choke point,
 * rather than trusting every renderer to remember.
 */
export function redactingIo(io: Io): Io & { setRedactor(r: Redactor): void } {
  let redactor: Redactor | undefined;
  const wrap = (stream: NodeJS.WritableStream): NodeJS.WritableStream =>
    new Proxy(stream, {
      get(target, prop) {
        if (prop === 'write') {
          return (chunk: string | Uint8Array, ...rest: unknown[]) => {
            const text =
              redactor && redactor.size > 0
                ? redactor.redact(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'))
                : chunk;
            return (target.write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(text, ...rest);
          };
        }
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  return {
    ...io,
    stdout: wrap(io.stdout),
    stderr: wrap(io.stderr),
    setRedactor(r: Redactor) {
      redactor = r;
    },
    redact: (text: string) => (redactor ? redactor.redact(text) : text),
  };
}
