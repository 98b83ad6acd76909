/**
 * Ctrl-C while a run holds locks on hosts: the run is asked to stop (no new change starts, the one
 * in flight on each host finishes, locks are released, the recap printed) instead of the process
 * dying with locks left behind. Outside such a run there is nothing to clean up: the entry point
 * ends the process at once. A second Ctrl-C always ends it at once.
 */
export class Interruption {
  private readonly controller = new AbortController();
  private guards = 0;

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Runs `fn` as a section that Ctrl-C stops gracefully (through `signal`) rather than kills. */
  async guard<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    this.guards++;
    try {
      return await fn(this.controller.signal);
    } finally {
      this.guards--;
    }
  }

  /**
   * Called on SIGINT. Returns true when a guarded run will stop by itself (the process must go on
   * to let it), false when the process should end now.
   */
  request(): boolean {
    if (this.controller.signal.aborted || this.guards === 0) return false;
    this.controller.abort();
    return true;
  }
}
