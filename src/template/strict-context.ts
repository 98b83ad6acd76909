import { Secret } from '../secrets/secret.js';

/**
 * The context templates, task arguments and `when` conditions are rendered with.
 *
 * Two jobs, both done where a value is read rather than by searching the output afterwards:
 * - strict: reading a name that does not exist throws `UnknownVariable`, whether the read comes
 *   from `{{ name }}`, a helper's argument (`{{join backend_addrs}}`), a block (`{{#if x}}`) or a
 *   `when`. Handlebars' own strict mode only covers the first. Optional values are declared in
 *   role defaults or tested with the `defined` helper.
 * - sensitive: a `Secret` read through the context is handed over as its value, and the render
 *   in progress is marked sensitive (Terraform's `sensitive`): whatever it produces derives from
 *   a secret, however the value was transformed (upper, indent, concat...).
 */
export class UnknownVariable extends Error {
  override name = 'UnknownVariable';
  constructor(readonly variable: string) {
    super(`unknown variable "${variable}"`);
  }
}

/** What one render read: whether any secret, and which secret values (to mask them in error text). */
export interface RenderTrace {
  sensitive: boolean;
  secrets: Set<string>;
}

let active: RenderTrace | undefined;

/** Runs `fn` (a render) and says whether it read a secret. Nested traces all see the read. */
export function traced<T>(fn: () => T): { value: T; trace: RenderTrace } {
  const trace = newTrace();
  return { value: traceInto(trace, fn), trace };
}

export function newTrace(): RenderTrace {
  return { sensitive: false, secrets: new Set() };
}

/** Like `traced`, with a trace the caller holds: it is filled in even when `fn` throws. */
export function traceInto<T>(trace: RenderTrace, fn: () => T): T {
  const outer = active;
  active = trace;
  try {
    return fn();
  } finally {
    active = outer;
    if (outer && trace.sensitive) {
      outer.sensitive = true;
      for (const s of trace.secrets) outer.secrets.add(s);
    }
  }
}

function markRead(secret: Secret): string {
  const value = secret.reveal();
  if (active) {
    active.sensitive = true;
    active.secrets.add(value);
  }
  return value;
}

/**
 * Names JavaScript and libraries ask objects for without meaning a variable (JSON.stringify asks
 * for toJSON, promises for then, test tools for asymmetricMatch...): answered as plain objects do.
 */
const NOT_VARIABLES = new Set([
  'toJSON',
  'then',
  'constructor',
  'toString',
  'valueOf',
  'asymmetricMatch',
  'nodeType',
  '$$typeof',
  '__proto__',
  'length',
]);

const proxies = new WeakMap<object, Map<string, object>>();
const targets = new WeakMap<object, object>();

/** Where a value read from the context lands: secrets revealed (and noted), objects wrapped. */
function handOver(value: unknown, path: string): unknown {
  if (value instanceof Secret) return markRead(value);
  if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) return strictContext(value, path);
  return value;
}

/**
 * Wraps a context object (and, as they are read, the objects inside it). `path` is the dotted
 * name of the object, for error messages ("host.nmae").
 */
export function strictContext<T extends object>(value: T, path = ''): T {
  if (targets.has(value)) return value;
  let byPath = proxies.get(value);
  const cached = byPath?.get(path);
  if (cached) return cached as T;
  const proxy = new Proxy(value, {
    get(target, prop, receiver) {
      if (typeof prop === 'symbol') return Reflect.get(target, prop, receiver) as unknown;
      if (Object.prototype.hasOwnProperty.call(target, prop)) {
        return handOver(Reflect.get(target, prop, receiver), path === '' ? prop : `${path}.${prop}`);
      }
      // Inherited members of lists and objects (map, includes, length...) are not variables.
      if (prop in target || NOT_VARIABLES.has(prop)) return Reflect.get(target, prop, receiver) as unknown;
      throw new UnknownVariable(path === '' ? prop : `${path}.${prop}`);
    },
  });
  targets.set(proxy, value);
  if (!byPath) proxies.set(value, (byPath = new Map<string, object>()));
  byPath.set(path, proxy);
  return proxy;
}

/**
 * A plain copy of a value read from the context (what a task argument keeps): secrets inside are
 * revealed, and noted in the active trace, like any other read.
 */
export function plainValue(value: unknown): unknown {
  if (value instanceof Secret) return markRead(value);
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return value;
  const target = targets.get(value) ?? value;
  if (Array.isArray(target)) return target.map((v) => plainValue(v));
  return Object.fromEntries(Object.entries(target).map(([k, v]) => [k, plainValue(v)]));
}

/** Whether a dotted name exists in a context (for the `defined` helper): never throws, reads no secret. */
export function isDefined(context: unknown, dotted: string): boolean {
  let cur: unknown = context;
  for (const part of dotted.split('.')) {
    const target: unknown = cur !== null && typeof cur === 'object' ? (targets.get(cur) ?? cur) : undefined;
    if (target === undefined || !Object.prototype.hasOwnProperty.call(target, part)) return false;
    cur = (target as Record<string, unknown>)[part];
  }
  return cur !== undefined;
}

/** The value behind a wrapped object (for helpers that must look without the strict rule). */
export function unwrap(value: unknown): unknown {
  return value !== null && typeof value === 'object' ? (targets.get(value) ?? value) : value;
}
