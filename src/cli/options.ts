import { Option, type Command } from 'commander';
import { UsageError } from '../diagnostics/usage-error.js';
import { EMPTY_LIMIT_HINT, EMPTY_TAGS_HINT, emptyLimitProblem, emptyTagsProblem } from '../engine/targeting.js';

/** Hosts handled at once unless --forks says otherwise. */
export const DEFAULT_FORKS = 25;

/** Options shared by the commands that read a project. */
export interface ProjectOptions {
  project?: string;
  playbook?: string;
  limit?: string;
  tags?: string[];
  json?: boolean;
  verbose?: boolean;
  color?: boolean;
  vaultPasswordFile?: string;
}

export interface RunCliOptions extends ProjectOptions {
  forks: number;
}

export function parsePositiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1)
      throw new UsageError(`${name} must be a whole number of at least 1, got "${value}"`);
    return n;
  };
}

/** An empty --limit (an unset $HOST in a script) must not mean "every host". */
export function parseLimit(value: string): string {
  const problem = emptyLimitProblem(value);
  if (problem) throw new UsageError(`${problem}\n  hint: ${EMPTY_LIMIT_HINT}`);
  return value;
}

/** An empty --tags must not mean "every task". */
function parseTags(value: string): string[] {
  const problem = emptyTagsProblem(value);
  if (problem) throw new UsageError(`${problem}\n  hint: ${EMPTY_TAGS_HINT}`);
  return value.split(',').map((s) => s.trim());
}

/** Which shared options a command offers: remove-host has no --limit (it must update every host). */
export interface OptionChoice {
  limit?: boolean;
}

export function addProjectOptions(cmd: Command, choice: OptionChoice = {}): Command {
  cmd
    .option('-p, --project <dir>', 'project directory holding inventory/, playbooks/ and roles/', undefined)
    .option('--playbook <file>', "playbook to run (default: the inventory's playbook:, else playbooks/site.yml)");
  if (choice.limit !== false)
    cmd.option('-l, --limit <pattern>', 'only these hosts: a host, a group, "a:b", "all:!x" to exclude', parseLimit);
  return cmd
    .option('-t, --tags <tags>', 'only tasks with one of these tags (comma-separated)', parseTags)
    .option('--json', 'print a JSON document on stdout instead of text')
    .option('-v, --verbose', 'also show tasks with nothing to do, and timings')
    .option('--no-color', 'no colours (also when NO_COLOR is set or output is not a terminal)')
    .option(
      '--vault-password-file <file>',
      'file holding the secrets password (or set KANKA_VAULT_PASSWORD / KANKA_VAULT_PASSWORD_FILE)',
    );
}

export function addRunOptions(cmd: Command, choice: OptionChoice = {}): Command {
  return addProjectOptions(cmd, choice).addOption(
    new Option('-f, --forks <n>', 'hosts handled in parallel')
      .default(DEFAULT_FORKS)
      .argParser(parsePositiveInt('--forks')),
  );
}

/** --yes and --break-lock, for the commands that change hosts (apply, add-host, remove-host). */
export function addChangeOptions(cmd: Command): Command {
  return cmd
    .option('-y, --yes', 'apply without asking (required when not on a terminal)')
    .option('--break-lock', 'take over host locks left by a run that is gone (kanka-infra says when that is safe)');
}
