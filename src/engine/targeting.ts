import { didYouMean } from '../config/closest.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { ConfigError } from '../diagnostics/diagnostic.js';
import { resolveHostPattern } from '../config/host-pattern.js';
import type { Inventory, Play, Project, Role, TaskDef } from '../config/model.js';

/** The terms of a host pattern, as host-pattern.ts splits them. */
function patternTerms(pattern: string): string[] {
  return pattern
    .split(/[:,]/)
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
}

/** Why an --limit value is unusable before the inventory is read (empty: an unset variable in a script), or undefined. */
export function emptyLimitProblem(limit: string): string | undefined {
  return patternTerms(limit).length === 0
    ? `--limit ${JSON.stringify(limit)} names no host or group (an unset variable in a script?)`
    : undefined;
}

/** Why a --tags (or --skip-tags) list is unusable (empty, or an empty tag in it), or undefined. */
export function emptyTagsProblem(raw: string, flag = '--tags'): string | undefined {
  const tags = raw.split(',').map((t) => t.trim());
  if (tags.every((t) => t === ''))
    return `${flag} ${JSON.stringify(raw)} names no tag (an unset variable in a script?)`;
  if (tags.some((t) => t === ''))
    return `${flag} ${JSON.stringify(raw)} has an empty tag (a leading, trailing or doubled comma)`;
  return undefined;
}

export const EMPTY_LIMIT_HINT =
  'name a host or a group (see `kanka-infra inventory <env>`), or leave --limit out to target every host';
export const EMPTY_TAGS_HINT = 'name one or more tags, comma-separated, or leave --tags out to run every task';

/** The task selection flags: Ansible's --tags, --skip-tags and --start-at-task. */
export interface Selection {
  tags?: string[];
  skipTags?: string[];
  /** A task name, or "<role>/<task name>" when several roles have a task of that name. */
  startAtTask?: string;
}

/**
 * Every task carries its role's name as a tag (`--tags nginx-php` runs that role), besides its own
 * tags and its play's.
 */
export function effectiveTags(task: TaskDef, play: Play, role: string): string[] {
  return [...new Set([role, ...task.tags, ...play.tags])];
}

/** Whether a task is the one --start-at-task names: by its name, or as "<role>/<name>". */
export function isStartTask(name: string, task: TaskDef, role: string): boolean {
  return task.name === name || `${role}/${task.name}` === name;
}

/**
 * What --limit, --tags, --skip-tags and --start-at-task select, checked so that they cannot silently
 * mean something else: an empty value, a name that matches nothing, or a selection with no host or
 * no task is an error (before any host is contacted), with the closest names as hints.
 */
export class Targeting {
  private readonly limited: Set<string> | undefined;
  private readonly selection: Selection;
  /** Tasks selected on the targeted hosts, before `when` (0 means the selection is empty here). */
  private selected = 0;
  /** Tags present on the targeted hosts' tasks (for the hint when none is selected). */
  private readonly tagsHere = new Set<string>();

  constructor(
    private readonly project: Project,
    opts: { limit?: string } & Selection,
  ) {
    this.limited = opts.limit === undefined ? undefined : resolveLimit(opts.limit, project.inventory);
    if (opts.tags !== undefined) checkTags('--tags', opts.tags, project);
    if (opts.skipTags !== undefined) checkTags('--skip-tags', opts.skipTags, project);
    if (opts.startAtTask !== undefined) checkStartTask(opts.startAtTask, project);
    this.selection = {
      ...(opts.tags !== undefined ? { tags: opts.tags } : {}),
      ...(opts.skipTags !== undefined ? { skipTags: opts.skipTags } : {}),
      ...(opts.startAtTask !== undefined ? { startAtTask: opts.startAtTask } : {}),
    };
  }

  includesHost(name: string): boolean {
    return this.limited === undefined || this.limited.has(name);
  }

  /**
   * A selector for one host's tasks, called in program order: --start-at-task skips the tasks
   * before the first one of that name on this host (whatever the tags: a host without it runs
   * nothing), then --tags keeps the tasks with one of those tags and --skip-tags drops those with one.
   */
  forHost(): (task: TaskDef, play: Play, role: string) => boolean {
    const { tags, skipTags, startAtTask } = this.selection;
    let started = startAtTask === undefined;
    return (task, play, role) => {
      const own = effectiveTags(task, play, role);
      own.forEach((t) => this.tagsHere.add(t));
      if (!started && startAtTask !== undefined && isStartTask(startAtTask, task, role)) started = true;
      const chosen =
        started &&
        (tags === undefined || own.some((t) => tags.includes(t))) &&
        !(skipTags ?? []).some((t) => own.includes(t));
      if (chosen) this.selected += 1;
      return chosen;
    };
  }

  /** Problems with the selection as a whole, once every host is compiled. */
  problems(hostsCompiled: string[]): Diagnostic[] {
    const { inventory, playbookFile } = this.project;
    if (this.limited !== undefined && hostsCompiled.length === 0) {
      const targeted = new Set(this.project.plays.flatMap((p) => resolveHostPattern(p.hosts, inventory).hosts));
      return [
        {
          file: playbookFile,
          message: `--limit selects ${[...this.limited].join(', ')}, but no play of this playbook runs on ${this.limited.size === 1 ? 'it' : 'them'}`,
          hint: `the plays run on: ${[...targeted].join(', ') || '(no host)'}`,
        },
      ];
    }
    const { tags, skipTags, startAtTask } = this.selection;
    if (this.selected > 0 || (tags === undefined && skipTags === undefined && startAtTask === undefined)) return [];
    const where = this.limited === undefined ? 'in this playbook' : `on ${hostsCompiled.join(', ')}`;
    const flags = [
      ...(tags ? [`--tags ${tags.join(',')}`] : []),
      ...(skipTags ? [`--skip-tags ${skipTags.join(',')}`] : []),
      ...(startAtTask !== undefined ? [`--start-at-task ${JSON.stringify(startAtTask)}`] : []),
    ];
    const onlyTags = flags.length === 1 && tags !== undefined;
    return [
      {
        file: playbookFile,
        message: `${flags.join(' ')} select${onlyTags && tags.length === 1 ? 's' : ''} no task ${where}`,
        hint: `tags ${where}: ${[...this.tagsHere].sort().join(', ') || '(none)'}`,
      },
    ];
  }
}

/** The hosts a --limit pattern selects; an error when it is empty, names an unknown host or group, or selects nobody. */
export function resolveLimit(limit: string, inventory: Inventory): Set<string> {
  const hostNames = inventory.hosts.map((h) => h.name);
  const groupNames = [...new Set([...inventory.groups.keys(), ...inventory.hosts.flatMap((h) => h.groups)])];
  const known = `hosts: ${hostNames.join(', ')}; groups: ${groupNames.join(', ') || '(none)'}`;
  const fail = (message: string, hint: string): never => {
    throw new ConfigError([{ file: inventory.file, message, hint }]);
  };
  const empty = emptyLimitProblem(limit);
  if (empty) fail(empty, EMPTY_LIMIT_HINT);
  const { hosts, unknown } = resolveHostPattern(limit, inventory);
  if (unknown.length > 0) {
    const names = unknown.map((u) => u.replace(/\*$/, ''));
    fail(
      `--limit names no group or host: ${unknown.join(', ')}`,
      `${names.map((n) => didYouMean(n, [...hostNames, ...groupNames])).join('')}${known}`,
    );
  }
  if (hosts.length === 0) {
    const onlyExclusions = patternTerms(limit).every((t) => t.startsWith('!'));
    fail(
      `--limit ${JSON.stringify(limit)} matches no host`,
      onlyExclusions ? `exclusions apply to what is included: write "all:${limit}" for every host but those` : known,
    );
  }
  return new Set(hosts);
}

/** The roles the playbook's plays apply, loaded. */
function playbookRoles(project: Project): Role[] {
  const names = [...new Set(project.plays.flatMap((p) => p.roles))];
  return names.map((n) => project.roles.get(n)).filter((r): r is Role => r !== undefined);
}

/** Every tag must be on some task, play or role of the playbook: a typo in one must not quietly drop (or keep) tasks. */
function checkTags(flag: '--tags' | '--skip-tags', tags: string[], project: Project): void {
  const file = project.playbookFile;
  const empty = emptyTagsProblem(tags.join(','), flag);
  if (empty) throw new ConfigError([{ file, message: empty, hint: EMPTY_TAGS_HINT }]);
  const written = new Set<string>(project.plays.flatMap((p) => p.tags));
  const roles = playbookRoles(project);
  for (const role of roles) for (const t of role.tasks) t.tags.forEach((tag) => written.add(tag));
  const roleNames = roles.map((r) => r.name);
  const existing = new Set([...written, ...roleNames]);
  const unknown = tags.filter((t) => !existing.has(t));
  if (unknown.length === 0) return;
  const list =
    `tags in this playbook: ${[...written].sort().join(', ') || '(none: no task or play has tags)'}` +
    `; every task also carries its role's name: ${roleNames.join(', ')}`;
  throw new ConfigError(
    unknown.map((tag) => ({
      file,
      message: `${flag}: no task or play has the tag "${tag}"`,
      hint: `${didYouMean(tag, existing)}${list}`,
    })),
  );
}

/** --start-at-task must name a task of the playbook (a typo would otherwise skip everything). */
function checkStartTask(name: string, project: Project): void {
  const file = project.playbookFile;
  if (name.trim() === '')
    throw new ConfigError([
      { file, message: '--start-at-task "" names no task', hint: 'name a task, or leave --start-at-task out' },
    ]);
  const roles = playbookRoles(project);
  if (roles.some((r) => r.tasks.some((t) => isStartTask(name, t, r.name)))) return;
  const names = roles.flatMap((r) => r.tasks.map((t) => t.name));
  throw new ConfigError([
    {
      file,
      message: `--start-at-task: no task of this playbook is named ${JSON.stringify(name)}`,
      hint: `${didYouMean(name, names) || 'see the task names with: kanka-infra validate <env> --list-tasks; '}names are matched exactly (case included)`,
    },
  ]);
}
