import { raw, type ShellCommand } from './command.js';

/**
 * THE place where a command line typed by the operator (`kanka-infra run <env> -- <words...>`)
 * becomes a command. Like `ssh host <words...>`, the words are joined with spaces and the host's sh
 * reads them: pipes, `&&` and `$(...)` are the point, so it is raw here, on purpose. Quoting is the
 * operator's, as with ssh.
 */
export function operatorShell(words: readonly string[]): ShellCommand {
  return raw(words.join(' '));
}
