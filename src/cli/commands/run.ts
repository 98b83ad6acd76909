import { Option, type Command } from 'commander';
import type { ExitCode } from '../exit-codes.js';
import type { Io } from '../io.js';
import { addVaultOptions, DEFAULT_FORKS, parseLimit, parsePositiveInt } from '../options.js';
import type { RunCommandOptions } from './run-command.js';

/** `run <env> -- <command...>`: an ad-hoc command on the selected hosts (loaded only when used). */
export function registerRunCommand(
  program: Command,
  io: Io,
  setExit: (c: ExitCode) => void,
  argv: readonly string[],
): void {
  const cmd = program
    .command('run')
    .argument('<env>', 'environment name or inventory file')
    .argument('[command...]', 'the command line, after --')
    .description(
      "run a command on every selected host in parallel (as `ssh host command` would, through sudo if the inventory says), show each host's output; recorded in each host's apply log",
    )
    .option('-p, --project <dir>', 'project directory holding inventory/')
    .option('-l, --limit <pattern>', 'only these hosts: a host, a group, "a:b", "all:!x" to exclude', parseLimit)
    .addOption(
      new Option('-f, --forks <n>', 'hosts handled in parallel')
        .default(DEFAULT_FORKS)
        .argParser(parsePositiveInt('--forks')),
    )
    .option('--json', 'print a JSON document on stdout instead of text')
    .option('--no-color', 'no colours (also when NO_COLOR is set or output is not a terminal)');
  addVaultOptions(cmd)
    .addHelpText(
      'after',
      `
The words after -- are joined with spaces and run by sh on each host, as ssh does: quote what
your local shell must not expand. Secret values from the vault are masked in what it prints.
Exit: 0 it succeeded on every host, 3 it failed (non-zero exit) or the host was unreachable on any, 1 invalid input.
Examples:
  kanka-infra run prod -- uptime
  kanka-infra run prod --limit backend -- systemctl status php8.2-fpm --no-pager
  kanka-infra run prod -l web1 --json -- 'df -h / | tail -1'`,
    )
    .action(async (env: string, words: string[], opts: RunCommandOptions) => {
      const { runCommand } = await import('./run-command.js');
      setExit(await runCommand(env, commandWords(argv, words), opts, io, argv));
    });
}

/**
 * The command's words: everything after the first `--` (so that its own options are not read as
 * ours). Words given without `--` are refused by runCommand, with the fix.
 */
function commandWords(argv: readonly string[], parsed: string[]): { words: string[]; afterDashes: boolean } {
  const dashes = argv.indexOf('--');
  return dashes < 0 ? { words: parsed, afterDashes: false } : { words: argv.slice(dashes + 1), afterDashes: true };
}
