import type { Fact } from '../facts/fact.js';
import type { Op } from '../modules/ops.js';
import type { ShellCommand } from '../shell/command.js';

/** What a command printed and its exit status (an ad-hoc `run`). */
export interface CommandOutput {
  stdout: string;
  stderr: string;
  code: number;
}

/** A fact value, or why it could not be read. */
export type FactOutcome = { ok: true; value: unknown } | { ok: false; error: string };

/**
 * A managed host as the engine sees it: read facts, apply ops. The real one compiles both to
 * shell over one SSH connection (shell-host.ts); the in-memory one (fake.ts) is for unit tests.
 */
export interface RemoteHost {
  /** Reads all these facts in one round trip. */
  probe(facts: readonly Fact<unknown>[]): Promise<Map<string, FactOutcome>>;
  /** Applies ops in order, stopping at the first failure (throws RemoteError). One round trip. */
  apply(ops: readonly Op[]): Promise<void>;
  /**
   * Runs an operator's command (`kanka-infra run`) as the inventory says (through sudo when set),
   * returning its output and exit status as they are: a non-zero status is an answer, not a throw.
   * One round trip.
   */
  runCommand(command: ShellCommand): Promise<CommandOutput>;
  readonly roundTrips: number;
  close(): void;
}

/** A failed remote step: what it said, and its exit code. */
export class RemoteError extends Error {
  override name = 'RemoteError';
  constructor(
    message: string,
    readonly code: number,
    readonly output: string,
  ) {
    super(message);
  }
}
