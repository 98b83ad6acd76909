import { evaluateExpression, renderInline } from '../template/render.js';

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

function lookup(context: Record<string, unknown>, dotted: string): { found: boolean; value: unknown } {
  let cur: unknown = context;
  for (const part of dotted.split('.')) {
    if (cur === null || typeof cur !== 'object' || !(part in (cur as object))) return { found: false, value: undefined };
    cur = (cur as Record<string, unknown>)[part];
  }
  return { found: true, value: cur };
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
    if (call?.[1]) return evaluateExpression(call[1], context);
    return renderInline(s, context);
  } catch (err) {
    const m = /"([^"]+)" not defined/.exec((err as Error).message);
    throw new InterpolationError(m ? `unknown variable "${m[1]}"` : `template error: ${(err as Error).message.split('\n')[0]}`, path);
  }
}

/** Renders every string inside `value` (recursively through lists and mappings). */
export function interpolate(value: unknown, context: Record<string, unknown>, path: ReadonlyArray<string | number> = []): unknown {
  if (typeof value === 'string') return renderString(value, context, path);
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, context, [...path, i]));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, context, [...path, k])]));
  }
  return value;
}
