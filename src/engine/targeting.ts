import { didYouMean } from '../config/closest.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { ConfigError } from '../diagnostics/diagnostic.js';
import { resolveHostPattern } from '../config/host-pattern.js';
import type { Inventory, Play, Project, TaskDef } from '../config/model.js';

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

/** Why a --tags list is unusable (empty, or an empty tag in it), or undefined. */
export function emptyTagsProblem(raw: string): string | undefined {
  const tags = raw.split(',').map((t) => t.trim());
  if (tags.every((t) => t === '')) return `--tags ${JSON.stringify(raw)} names no tag (an unset variable in a script?)`;
  if (tags.some((t) => t === ''))
    return `--tags ${JSON.stringify(raw)} has an empty tag (a leading, trailing or doubled comma)`;
  return undefined;
}

export const EMPTY_LIMIT_HINT =
  'name a host or a group (see `kanka-infra inventory <env>`), or leave --limit out to target every host';
export const EMPTY_TAGS_HINT = 'name one or more tags, comma-separated, or leave --tags out to run every task';

/**
 * What --limit and --tags select, checked so that they cannot silently mean something else:
 * an empty value, a name that matches nothing, or a selection with no host or no task is an
 * error (before any host is contacted), with the closest names as hints.
 */
export class Targeting {
  private readonly limited: Set<string> | undefined;
  private readonly tags: string[] | undefined;
  /** Tasks the tags select on the targeted hosts, before `when` (0 means the tags select nothing here). */
  private selected = 0;
  /** Tags present on the targeted hosts' tasks (for the hint when none is selected). */
  private readonly tagsHere = new Set<string>();

  constructor(
    private readonly project: Project,
    opts: { limit?: string; tags?: string[] },
  ) {
    this.limited = opts.limit === undefined ? undefined : resolveLimit(opts.limit, project.inventory);
    if (opts.tags !== undefined) checkTags(opts.tags, project);
    this.tags = opts.tags;
  }

  includesHost(name: string): boolean {
    return this.limited === undefined || this.limited.has(name);
  }

  /** Whether a task runs under --tags (its own tags or its play's); counts what is selected. */
  selects(task: TaskDef, play: Play): boolean {
    const tags = [...task.tags, ...play.tags];
    tags.forEach((t) => this.tagsHere.add(t));
    const chosen = this.tags === undefined || tags.some((t) => this.tags?.includes(t));
    if (chosen) this.selected += 1;
    return chosen;
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
    if (this.tags !== undefined && this.selected === 0) {
      const where = this.limited === undefined ? 'in this playbook' : `on ${hostsCompiled.join(', ')}`;
      return [
        {
          file: playbookFile,
          message: `--tags ${this.tags.join(',')} select${this.tags.length === 1 ? 's' : ''} no task ${where}`,
          hint: `tags ${where}: ${[...this.tagsHere].sort().join(', ') || '(none)'}`,
        },
      ];
    }
    return [];
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

/** Every tag must be on some task or play of the playbook: a typo in one must not quietly drop its tasks. */
function checkTags(tags: string[], project: Project): void {
  const file = project.playbookFile;
  const empty = emptyTagsProblem(tags.join(','));
  if (empty) throw new ConfigError([{ file, message: empty, hint: EMPTY_TAGS_HINT }]);
  const existing = new Set<string>(project.plays.flatMap((p) => p.tags));
  for (const play of project.plays) {
    for (const roleName of play.roles)
      for (const t of project.roles.get(roleName)?.tasks ?? []) t.tags.forEach((tag) => existing.add(tag));
  }
  const unknown = tags.filter((t) => !existing.has(t));
  if (unknown.length === 0) return;
  const list = `tags in this playbook: ${[...existing].sort().join(', ') || '(none: no task or play has tags)'}`;
  throw new ConfigError(
    unknown.map((tag) => ({
      file,
      message: `--tags: no task or play has the tag "${tag}"`,
      hint: `${didYouMean(tag, existing)}${list}`,
    })),
  );
}
