import type { Fact } from '../facts/fact.js';
import type { Op } from '../modules/ops.js';

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
