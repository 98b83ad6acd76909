import { shq } from './quote.js';

/** What may be interpolated into `sh`: values (quoted), lists of values (quoted words), or commands. */
export type ShellValue = string | number | ShellCommand;
export type ShellArg = ShellValue | readonly ShellValue[];

let make: (text: string) => ShellCommand;

/**
 * POSIX sh text that is safe to send to a host, as a value. It is only made by `sh` (which quotes
 * every interpolated value), by the helpers here, or by `raw` (the visible escape). The private
 * brand makes the type nominal: a string, or an object that merely looks like one, is a compile
 * error where a command is expected, so nothing becomes shell text by accident.
 */
export class ShellCommand {
  readonly #brand = true;

  private constructor(readonly text: string) {}

  static {
    make = (text) => new ShellCommand(text);
  }

  /** Whether `value` is a ShellCommand made here (not a look-alike object). */
  static is(value: unknown): value is ShellCommand {
    return typeof value === 'object' && value !== null && #brand in value;
  }

  /** The shell text (for logs, tests and the in-memory host): reading it never makes a command. */
  toString(): string {
    return this.text;
  }

  toJSON(): string {
    return this.text;
  }
}

function render(value: ShellArg): string {
  if (ShellCommand.is(value)) return value.text;
  if (typeof value === 'string') return shq(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`internal error: ${value} interpolated into a shell command`);
    return shq(String(value));
  }
  if (Array.isArray(value)) return (value as readonly ShellValue[]).map(render).join(' ');
  // Only reachable through a type cast: refuse rather than print "[object Object]" into a script.
  throw new Error(`internal error: a ${typeof value} interpolated into a shell command`);
}

/**
 * Builds a command from a template: every interpolated string or number is single-quoted (shq),
 * a list becomes quoted words separated by spaces, and a nested ShellCommand is inserted as it is
 * (it is already safe). The literal parts are the template's own text.
 *
 *   sh`chown -h -- ${owner} ${path}`
 */
export function sh(strings: TemplateStringsArray, ...values: readonly ShellArg[]): ShellCommand {
  // A template's strings array is frozen and carries `raw`; a hand-made array is not a template.
  if (!Object.isFrozen(strings) || !Array.isArray(strings.raw))
    throw new Error('internal error: sh must be used as a tagged template');
  let text = '';
  strings.forEach((literal, i) => {
    if (literal === undefined) throw new Error('internal error: invalid escape sequence in a sh template');
    text += literal;
    if (i < values.length) text += render(values[i] as ShellArg);
  });
  return make(text);
}

/**
 * The explicit escape: `text` is used as shell text without quoting. Every call is a decision
 * that the text is shell by nature (a constant fragment, or shell written by a role author).
 */
export function raw(text: string): ShellCommand {
  return make(text);
}

const NEWLINE = sh`\n`;
const SPACE = sh` `;

/** Commands joined by a separator (itself a command: a space by default, sh`; `, sh` && `...). */
export function join(parts: readonly ShellCommand[], separator: ShellCommand = SPACE): ShellCommand {
  return make(parts.map((p) => p.text).join(separator.text));
}

/** Commands one per line (a script). */
export function lines(parts: readonly ShellCommand[]): ShellCommand {
  return join(parts, NEWLINE);
}
