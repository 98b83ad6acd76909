import type { ShellCommand } from '../shell/command.js';

/**
 * What a change does, as data. Modules return ops; the engine compiles them to shell
 * (ops-to-shell.ts) and the fake host used by unit tests applies them to memory.
 */
export interface Ownership {
  mode?: string;
  owner?: string;
  group?: string;
}

export type Op =
  /**
   * Atomic: written to a temporary file beside `path`, validated, then renamed over it. `validate`
   * is the role's command text with `{path}` for the temporary file (see shell/role-shell.ts).
   */
  | ({ op: 'write'; path: string; content: Buffer; validate?: string } & Ownership)
  | ({ op: 'mkdir'; path: string } & Ownership)
  | ({ op: 'attributes'; path: string } & Ownership)
  | { op: 'remove'; path: string }
  | { op: 'symlink'; path: string; target: string }
  /** Takes the run lock (a directory, created atomically) or fails with exit 75 printing its owner. */
  | { op: 'lock'; path: string; owner: string; force: boolean }
  /** Releases the lock if `token` still owns it. */
  | { op: 'unlock'; path: string; token: string }
  /** Appends one line to a log file (created 0600). */
  | { op: 'append'; path: string; line: string }
  /** `stdin`: data for the command (e.g. SQL), never on its command line. */
  | { op: 'exec'; command: ShellCommand; cwd?: string; stdin?: string };
