import { Argument, type Command } from 'commander';
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { Io } from '../io.js';

/**
 * `completion bash|zsh` prints the script to load; the hidden `__complete -- <words...>` is what
 * that script calls on each Tab: it prints the candidates for the last word, one a line.
 */
export function registerCompletionCommands(
  program: Command,
  io: Io,
  setExit: (c: ExitCode) => void,
  argv: readonly string[],
): void {
  program
    .command('completion')
    .addArgument(new Argument('<shell>', 'the shell to complete in').choices(['bash', 'zsh']))
    .description('print the shell completion script: commands, options, environments, hosts, groups and tags')
    .addHelpText(
      'after',
      `
bash (~/.bashrc):  eval "$(kanka-infra completion bash)"
zsh  (~/.zshrc, after compinit):  eval "$(kanka-infra completion zsh)"
Completion reads the project's files (inventory/*.yml, the playbook's tags) in the current directory; it never contacts a host.`,
    )
    .action(async (shell: 'bash' | 'zsh') => {
      const { completionScript } = await import('../completion-scripts.js');
      io.stdout.write(completionScript(shell));
      setExit(EXIT.OK);
    });

  program
    .command('__complete', { hidden: true })
    .argument('[words...]')
    .helpOption(false)
    .allowUnknownOption()
    .action(async () => {
      const { completions } = await import('../completion.js');
      // The words as typed: everything after `--` (commander would read their options as its own).
      const words = argv.slice(argv.indexOf('--') + 1);
      const candidates = argv.includes('--') ? completions(program, words, io.cwd) : [];
      if (candidates.length > 0) io.stdout.write(`${candidates.join('\n')}\n`);
      setExit(EXIT.OK);
    });
}
