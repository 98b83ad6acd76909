/** The exit codes, one meaning each (documented in the README). */
export const EXIT = {
  /** Success; for plan and drift: nothing to change. */
  OK: 0,
  /** Invalid input or usage: nothing was touched. */
  INVALID: 1,
  /** plan / drift: changes are pending; plan / drift / apply: a problem needs a person (see ProblemResult). */
  CHANGES: 2,
  /** A host failed or could not be reached (the others were still handled). */
  HOST_FAILED: 3,
  /** A bug in kanka-infra itself. */
  INTERNAL: 4,
  /** Interrupted (Ctrl-C): the changes in flight finished, the locks were released, the rest was not applied. */
  INTERRUPTED: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
