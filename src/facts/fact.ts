/**
 * A fact is one piece of host state: the shell snippet that reads it and a pure parser of its
 * output. The engine batches the snippets of every task of a host into one remote script.
 * Facts with the same id are read once.
 */
export interface Fact<T> {
  readonly id: string;
  readonly kind: string;
  /** The values the snippet was built from (path, command...): for logs and the in-memory fake host. */
  readonly params: Readonly<Record<string, string>>;
  /** POSIX sh snippet; its stdout is handed to parse(). Values in it are quoted with shq(). */
  script(): string;
  parse(output: string): T;
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
      if (!values.has(fact.id)) throw new NeedFacts([fact as Fact<unknown>]);
      return values.get(fact.id) as T;
    },
  };
}
