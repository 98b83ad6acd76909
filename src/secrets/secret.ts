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
