import { inspect } from 'node:util';

/** What a secret looks like wherever it is printed, logged, diffed or serialised. */
export const SECRET_MASK = '<secret>';

/**
 * A secret string that never prints: String(), template literals, `+`, JSON.stringify,
 * util.inspect / console.log all give "<secret>". `reveal()` is the only way to the value, so every
 * place that needs it (rendering a template that goes to a host, for instance) is easy to find.
 *
 * The value lives in a private class field: it is not an own enumerable property, so Object.keys,
 * spreading, structuredClone and assertion libraries that walk properties do not see it either.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The real value. Call it only where the value must leave the program (to a host). */
  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return SECRET_MASK;
  }

  toJSON(): string {
    return SECRET_MASK;
  }

  [Symbol.toPrimitive](): string {
    return SECRET_MASK;
  }

  [inspect.custom](): string {
    return SECRET_MASK;
  }

  static isSecret(value: unknown): value is Secret {
    return value instanceof Secret;
  }
}

/**
 * Every Secret under `root` (objects, arrays, Maps, at any depth), in a fixed order (object keys
 * sorted): for masking all of them, and for keys derived from all of them.
 */
export function secretsWithin(root: unknown): Secret[] {
  const seen = new WeakSet<object>();
  const found: Secret[] = [];
  const visit = (value: unknown): void => {
    if (value instanceof Secret) {
      found.push(value);
      return;
    }
    if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value) || seen.has(value)) return;
    seen.add(value);
    if (value instanceof Map) for (const v of (value as Map<unknown, unknown>).values()) visit(v);
    else for (const k of Object.keys(value).sort()) visit((value as Record<string, unknown>)[k]);
  };
  visit(root);
  return found;
}
