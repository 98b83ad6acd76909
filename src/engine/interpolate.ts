import Handlebars from 'handlebars';

/**
 * Renders `{{ variables }}` in task arguments. Strict: an unknown variable is an error, never an
 * empty string. A string that is exactly one expression keeps the value's type, so
 * `port: "{{ redis_port }}"` stays a number and a list stays a list.
 */
const hb = Handlebars.create();
const compiled = new Map<string, Handlebars.TemplateDelegate>();
const SINGLE_EXPRESSION = /^\{\{\s*([A-Za-z_][\w.-]*)\s*\}\}$/;

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
  const single = SINGLE_EXPRESSION.exec(s);
  if (single?.[1]) {
    const { found, value } = lookup(context, single[1]);
    if (!found) throw new InterpolationError(`unknown variable "${single[1]}"`, path);
    return value;
  }
  let template = compiled.get(s);
  if (!template) {
    template = hb.compile(s, { strict: true, noEscape: true });
    compiled.set(s, template);
  }
  try {
    return template(context);
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
