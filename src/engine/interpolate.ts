import { evaluateExpression, renderInline } from '../template/render.js';
import { Secret } from '../secrets/secret.js';
import { plainValue, strictContext, traced } from '../template/strict-context.js';

/**
 * Renders `{{ variables }}` in task arguments, with the same helpers as templates. Strict: an
 * unknown variable is an error, never an empty string. A string that is exactly one expression
 * keeps the value's type: `port: "{{ redis_port }}"` stays a number, `hosts: "{{ addressesOf
 * 'backend' }}"` is a list.
 */
const SINGLE_VARIABLE = /^\{\{\s*([A-Za-z_][\w.-]*)\s*\}\}$/;
const SINGLE_HELPER_CALL = /^\{\{\s*([A-Za-z_]\w*\s+[^{}]+?)\s*\}\}$/;

export class InterpolationError extends Error {
  override name = 'InterpolationError';
  constructor(
    message: string,
    readonly path: ReadonlyArray<string | number>,
  ) {
    super(message);
  }
}

/** What rendering read from secrets: the rendered strings that derive from one, and the secret values. */
export interface Taint {
  /** Rendered argument strings (whole) that derive from a secret. */
  strings: Set<string>;
  /** The secret values read. */
  secrets: Set<string>;
}

export function emptyTaint(): Taint {
  return { strings: new Set(), secrets: new Set() };
}

function lookup(context: Record<string, unknown>, dotted: string): { found: boolean; value: unknown } {
  let cur: unknown = strictContext(context);
  for (const part of dotted.split('.')) {
    if (cur === null || typeof cur !== 'object' || !(part in cur)) return { found: false, value: undefined };
    cur = (cur as Record<string, unknown>)[part];
  }
  return { found: true, value: plainValue(cur) };
}

function renderString(s: string, context: Record<string, unknown>, path: ReadonlyArray<string | number>): unknown {
  if (!s.includes('{{')) return s;
  const single = SINGLE_VARIABLE.exec(s);
  if (single?.[1]) {
    const { found, value } = lookup(context, single[1]);
    if (!found) throw new InterpolationError(`unknown variable "${single[1]}"`, path);
    return value;
  }
  try {
    const call = SINGLE_HELPER_CALL.exec(s);
    if (call?.[1]) return evaluateExpression(call[1], context).value;
    return renderInline(s, context).text;
  } catch (err) {
    const m = /unknown variable "([^"]+)"|"([^"]+)" not defined/.exec((err as Error).message);
    const reason =
      'reason' in (err as object) ? String((err as { reason: unknown }).reason) : (err as Error).message.split('\n')[0];
    throw new InterpolationError(m ? `unknown variable "${m[1] ?? m[2]}"` : `template error: ${reason}`, path);
  }
}

function collectStrings(value: unknown, into: Set<string>): void {
  if (typeof value === 'string') into.add(value);
  else if (Array.isArray(value)) for (const v of value) collectStrings(v, into);
  else if (value !== null && typeof value === 'object') for (const v of Object.values(value)) collectStrings(v, into);
}

/**
 * Renders every string inside `value` (recursively through lists and mappings). With `taint`,
 * each rendered string that read a secret is added to it, with the secret values it read.
 */
export function interpolate(
  value: unknown,
  context: Record<string, unknown>,
  path: ReadonlyArray<string | number> = [],
  taint?: Taint,
): unknown {
  // An inline `!vault` value written straight into the arguments: the value, marked sensitive.
  if (value instanceof Secret) {
    const revealed = value.reveal();
    taint?.strings.add(revealed);
    taint?.secrets.add(revealed);
    return revealed;
  }
  if (typeof value === 'string') {
    const { value: rendered, trace } = traced(() => renderString(value, context, path));
    if (trace.sensitive && taint) {
      collectStrings(rendered, taint.strings);
      for (const s of trace.secrets) taint.secrets.add(s);
    }
    return rendered;
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, context, [...path, i], taint));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, context, [...path, k], taint)]));
  }
  return value;
}
