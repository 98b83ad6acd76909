import { join, raw, type ShellCommand } from './command.js';

/**
 * THE place where shell written by role authors becomes a command: a `command` task's `run` and
 * `unless`, a `check` task's `command`, a file's `validate`. That text is shell by nature (pipes,
 * `&&`, redirections are the point), so it is raw here, on purpose and nowhere else: a value a
 * role author puts into it must be quoted by the author (the template `quote` helper). Every other
 * command in src is built with `sh`, which quotes each value.
 */
export function roleShell(text: string): ShellCommand {
  return raw(text);
}

/** A role's `validate` command with each `{path}` replaced by `file` (the temporary file). */
export function roleValidateCommand(text: string, file: ShellCommand): ShellCommand {
  return join(text.split('{path}').map(roleShell), file);
}
