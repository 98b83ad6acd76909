import { Option, type Command } from 'commander';
import { UsageError } from '../diagnostics/usage-error.js';
import { collectExtraVar } from './extra-vars.js';
import { EMPTY_LIMIT_HINT, EMPTY_TAGS_HINT, emptyLimitProblem, emptyTagsProblem } from '../engine/targeting.js';

/** Hosts handled at once unless --forks says otherwise. */
export const DEFAULT_FORKS = 25;

/** Options shared by the commands that read a project. */
export interface ProjectOptions {
  project?: string;
  playbook?: string;
  limit?: string;
  tags?: string[];
  skipTags?: string[];
  startAtTask?: string;
  json?: boolean;
  verbose?: boolean;
  color?: boolean;
  vaultPasswordFile?: string;
  /** -e arguments as given (name=value, {...} or @file), in order. */
  extraVars?: string[];
  /** Extra variables already read (a saved plan's): used instead of `extraVars`. */
  extraVarValues?: Record<string, unknown>;
  /** The host add-host is adding: its host_vars files are expected before it is in the inventory. */
  newHost?: string;
  /** `--vault-id label@file`, repeatable. */
  vaultId?: string[];
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

/** An empty --tags must not mean "every task" (nor an empty --skip-tags "skip nothing"). */
function parseTagList(flag: '--tags' | '--skip-tags') {
  return (value: string): string[] => {
    const problem = emptyTagsProblem(value, flag);
    if (problem) throw new UsageError(`${problem}\n  hint: ${EMPTY_TAGS_HINT}`);
    return value.split(',').map((s) => s.trim());
  };
}

/** An empty --start-at-task (an unset variable) must not mean "from the start". */
function parseStartAtTask(value: string): string {
  if (value.trim() === '')
    throw new UsageError(`--start-at-task "" names no task\n  hint: name a task, or leave --start-at-task out`);
  return value;
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
  cmd
    .option(
      '-t, --tags <tags>',
      "only tasks with one of these tags (comma-separated; every task also carries its role's name)",
      parseTagList('--tags'),
    )
    .option(
      '--skip-tags <tags>',
      'leave out the tasks with one of these tags (comma-separated)',
      parseTagList('--skip-tags'),
    )
    .option(
      '--start-at-task <name>',
      'on each host, skip the tasks before the first one with this name ("<role>/<name>" to say which role)',
      parseStartAtTask,
    )
    .option('--json', 'print a JSON document on stdout instead of text')
    .option('-v, --verbose', 'also show tasks with nothing to do, and timings')
    .option('--no-color', 'no colours (also when NO_COLOR is set or output is not a terminal)');
  return addVaultOptions(cmd);
}

/** Where the secrets password comes from: every command that opens the vault offers the same two. */
export function addVaultOptions(cmd: Command): Command {
  return cmd
    .option(
      '--vault-password-file <file>',
      'file holding the secrets password, or a script printing it (or set KANKA_VAULT_PASSWORD / KANKA_VAULT_PASSWORD_FILE)',
    )
    .option(
      '--vault-id <label@file>',
      'a labelled secrets password from a file or script (repeatable; the matching label is tried first)',
      (v: string, all: string[] | undefined) => [...(all ?? []), v],
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

/**
 * -e for the commands that take extra variables (validate, plan, apply, drift). add-host and
 * remove-host keep -e for --env, as they always had: they take no extra variables.
 */
export function addExtraVarsOption(cmd: Command): Command {
  return cmd.option(
    '-e, --extra-vars <var>',
    'set a variable above all others: name=value (typed as in YAML), \'{"name": value}\' or @file.yml; repeatable, the last wins (add-host and remove-host use -e for --env)',
    collectExtraVar,
  );
}
