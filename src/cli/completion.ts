import { resolve } from 'node:path';
import type { Command, Option } from 'commander';
import { loadInventory } from '../config/load-inventory.js';
import { loadProject } from '../config/load-project.js';
import type { Inventory } from '../config/model.js';
import { knownEnvironments, resolveInventoryFile } from '../config/resolve-env.js';
import { schemaKinds } from '../config/json-schema.js';

/** What the shell asked to complete: the words typed after `kanka-infra`, the last being the one under the cursor. */
interface Typed {
  command: Command;
  positionals: string[];
  options: Map<string, string>;
  /** The option whose value is under the cursor. */
  awaitingValue?: Option;
  /** After `--` (run's command): nothing of ours to complete. */
  afterDashes: boolean;
}

/**
 * The candidates for the word under the cursor (`words`' last), read from the program's own
 * commands and options and from the project's files: environments (inventory/*.yml), host and group
 * names, tags. Offline: no host is contacted, no secret is opened. Nothing to offer: an empty list
 * (the shell then completes file names).
 */
export function completions(program: Command, words: readonly string[], cwd: string): string[] {
  const current = words[words.length - 1] ?? '';
  const typed = read(program, words.slice(0, -1));
  if (typed.afterDashes) return [];
  const project = resolve(cwd, typed.options.get('project') ?? '.');
  const env = typed.options.get('env') ?? (expectsEnv(typed.command) ? typed.positionals[0] : undefined);
  const context = new ProjectNames(project, env);
  if (typed.awaitingValue) return optionValues(typed.awaitingValue, current, context);
  if (current.startsWith('-')) return startingWith(optionFlags(typed.command), current);
  const subcommands = typed.command.commands.filter((c) => !c.name().startsWith('__'));
  if (subcommands.length > 0 && typed.positionals.length === 0)
    return startingWith(
      subcommands.map((c) => c.name()),
      current,
    );
  return startingWith(argumentValues(typed.command, typed.positionals.length, context), current);
}

/** Walks the typed words as commander would: subcommands, options (and their values), positionals. */
function read(program: Command, before: readonly string[]): Typed {
  const typed: Typed = { command: program, positionals: [], options: new Map(), afterDashes: false };
  for (const word of before) {
    if (typed.afterDashes) continue;
    if (typed.awaitingValue) {
      typed.options.set(typed.awaitingValue.attributeName(), word);
      delete typed.awaitingValue;
    } else if (word === '--') typed.afterDashes = true;
    else if (word.startsWith('-') && word.length > 1) {
      const [flag = '', inline] = word.split(/=(.*)/s, 2);
      const option = typed.command.options.find((o) => o.long === flag || o.short === flag);
      if (option && (option.required || option.optional)) {
        if (inline !== undefined) typed.options.set(option.attributeName(), inline);
        else typed.awaitingValue = option;
      }
    } else {
      const sub = typed.positionals.length === 0 ? typed.command.commands.find((c) => c.name() === word) : undefined;
      if (sub) typed.command = sub;
      else typed.positionals.push(word);
    }
  }
  return typed;
}

/** The commands whose first argument is an environment (validate, plan, apply, db backup, run, ...). */
function expectsEnv(command: Command): boolean {
  return command.registeredArguments[0]?.name().startsWith('env') === true;
}

function optionFlags(command: Command): string[] {
  const flags = command.options.filter((o) => !o.hidden).flatMap((o) => (o.long ? [o.long] : []));
  return [...flags, '--help'];
}

function argumentValues(command: Command, index: number, names: ProjectNames): string[] {
  const args = command.registeredArguments;
  const arg = args[index] ?? (args[args.length - 1]?.variadic ? args[args.length - 1] : undefined);
  if (!arg) return [];
  if (arg.argChoices) return [...arg.argChoices];
  const name = arg.name();
  if (name.startsWith('env')) return names.environments();
  if (name === 'kind') return [...schemaKinds];
  if (name === 'shell') return ['bash', 'zsh'];
  // remove-host <name>, db reseed <env> <host>: a host of the inventory (add-host's is a new name).
  if (name === 'host' || (name === 'name' && command.name() === 'remove-host')) return names.hosts();
  return [];
}

function optionValues(option: Option, current: string, names: ProjectNames): string[] {
  switch (option.long) {
    case '--limit': {
      const known = [...names.groups(), ...names.hosts()];
      return known.length > 0 ? patternCandidates(current, known) : [];
    }
    case '--tags':
    case '--skip-tags': {
      // A comma-separated list: complete its last tag.
      const head = current.slice(0, current.lastIndexOf(',') + 1);
      return startingWith(
        names.tags().map((t) => head + t),
        current,
      );
    }
    case '--env':
      return startingWith(names.environments(), current);
    case '--group':
    case '--drain':
      return startingWith(names.groups(), current);
    default:
      return [];
  }
}

/** A host pattern ("backend:!backend2", "web1,db1"): its last term, after any ":", "," or "!". */
function patternCandidates(current: string, names: string[]): string[] {
  const cut = Math.max(current.lastIndexOf(':'), current.lastIndexOf(','), current.lastIndexOf('!')) + 1;
  const head = current.slice(0, cut);
  // "all" starts a pattern ("all:!backend2"); later terms name what to add or take away.
  return startingWith(
    (head === '' ? ['all', ...names] : names).map((n) => head + n),
    current,
  );
}

function startingWith(candidates: readonly string[], prefix: string): string[] {
  return [...new Set(candidates)].filter((c) => c.startsWith(prefix));
}

/** The names a project offers, each read at most once and only when asked; a broken file offers none. */
class ProjectNames {
  #inventory: Inventory | undefined | null = null;

  constructor(
    private readonly projectDir: string,
    private readonly env: string | undefined,
  ) {}

  environments(): string[] {
    return quietly(() => knownEnvironments(this.projectDir));
  }

  hosts(): string[] {
    return this.inventory()?.hosts.map((h) => h.name) ?? [];
  }

  groups(): string[] {
    const inv = this.inventory();
    return inv ? [...new Set([...inv.groups.keys(), ...inv.hosts.flatMap((h) => h.groups)])] : [];
  }

  tags(): string[] {
    const env = this.env;
    if (env === undefined) return [];
    return quietly(() => {
      const project = loadProject({ env, projectDir: this.projectDir });
      const tags = new Set(project.plays.flatMap((p) => p.tags));
      for (const play of project.plays)
        for (const role of play.roles) {
          // Every task carries its role's name as a tag.
          tags.add(role);
          for (const t of project.roles.get(role)?.tasks ?? []) t.tags.forEach((x) => tags.add(x));
        }
      return [...tags].sort();
    });
  }

  private inventory(): Inventory | undefined {
    if (this.#inventory !== null) return this.#inventory;
    const env = this.env;
    this.#inventory =
      env === undefined
        ? undefined
        : (quietly(() => [loadInventory(resolveInventoryFile(env, this.projectDir))])[0] ?? undefined);
    return this.#inventory;
  }
}

/** Completion never prints an error: a file that cannot be read offers nothing. */
function quietly<T>(read: () => T[]): T[] {
  try {
    return read();
  } catch {
    return [];
  }
}
