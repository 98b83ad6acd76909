/** What the fleet's terminal commands (cli.ts, light-cli.ts) share: usage errors and how they end. */

/** A wrong command line: the message (if any) and the usage are printed, exit 2. */
export class UsageError extends Error {}

/** Runs `main` and ends the process with its code; usage errors exit 2, anything else 1 with `prefix: message`. */
export function runHarnessCli(main: (argv: string[]) => Promise<number>, usage: string, prefix: string): void {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      if (err instanceof UsageError) {
        process.stderr.write(`${err.message ? `${err.message}\n` : ''}${usage}\n`);
        process.exit(2);
      }
      process.stderr.write(`${prefix}: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
