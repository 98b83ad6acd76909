import { sh, type ShellCommand } from '../shell/command.js';

/**
 * A fact is one piece of host state: the shell snippet that reads it and a pure parser of its
 * output. The engine batches the snippets of every task of a host into one remote script.
 * Facts with the same id are read once.
 */
export interface Fact<T> {
  readonly id: string;
  readonly kind: string;
  /**
   * The values the snippet was built from (path, unit, command...). They make the id (the same
   * values: read once) and tell a test double what to answer without parsing the snippet.
   */
  readonly params: Readonly<Record<string, string>>;
  /** POSIX sh snippet, built with `sh` (values quoted); its stdout is handed to parse(). */
  script(): ShellCommand;
  parse(output: string): T;
  /**
   * Work this fact shares with others of the same probe, run once before every snippet (one `stat`
   * for all files instead of one per file: each exec costs the host about a millisecond). The
   * snippet must give the same answer without it (it then reads for itself). Preludes and snippets
   * may use KANKA_NL (a newline), set once before the preludes.
   */
  readonly shared?: { readonly prelude: SharedPrelude; readonly items: readonly string[] };
}

/** Builds, from the items of every fact that uses it, a script that leaves its results in shell variables. */
export interface SharedPrelude {
  readonly id: string;
  script(items: readonly string[]): ShellCommand;
}

/** The preludes the facts of one probe need, each built once from all of its items (none: no script). */
export function sharedPreludes(facts: readonly Fact<unknown>[]): ShellCommand[] {
  const byId = new Map<string, { prelude: SharedPrelude; items: Set<string> }>();
  for (const f of facts) {
    if (!f.shared) continue;
    const entry = byId.get(f.shared.prelude.id) ?? { prelude: f.shared.prelude, items: new Set<string>() };
    for (const item of f.shared.items) entry.items.add(item);
    byId.set(f.shared.prelude.id, entry);
  }
  if (byId.size === 0) return [];
  return [sh`KANKA_NL='\n'`, ...[...byId.values()].map((e) => e.prelude.script([...e.items]))];
}

/** What a planner gets: the value of any fact it asked for. */
export interface FactReader {
  get<T>(fact: Fact<T>): T;
}

/**
 * A planner asked for a fact it did not declare: the engine reads it (one more round trip, only
 * for the tasks that need it) and plans again. Used for what is only worth reading when something
 * changed, like a file's old content for the diff.
 */
export class NeedFacts extends Error {
  constructor(readonly facts: Fact<unknown>[]) {
    super(`needs more facts: ${facts.map((f) => f.id).join(', ')}`);
    this.name = 'NeedFacts';
  }
}

/** Facts read from a map keyed by fact id (values already parsed). */
export function factReader(values: ReadonlyMap<string, unknown>): FactReader {
  return {
    get<T>(fact: Fact<T>): T {
      if (!values.has(fact.id)) throw new NeedFacts([fact]);
      return values.get(fact.id) as T;
    },
  };
}

/** A fact that is only a snippet and a parser, named by its kind and parameters. */
export function scriptFact<T>(
  kind: string,
  params: Record<string, string>,
  script: () => ShellCommand,
  parse: (output: string) => T,
): Fact<T> {
  return { id: `${kind}:${JSON.stringify(params)}`, kind, params, script, parse };
}
