import { readFileSync } from 'node:fs';
import Handlebars from 'handlebars';
import { templateHelpers } from './helpers.js';

/**
 * One Handlebars environment for every template: HTML escaping OFF (these are config files,
 * not web pages) and strict mode ON (an unknown variable is an error, never an empty string).
 */
const hb = Handlebars.create();
for (const [name, fn] of Object.entries(templateHelpers)) hb.registerHelper(name, fn);

/** Compiled once per file per run, whatever the number of hosts. */
const cache = new Map<string, Handlebars.TemplateDelegate>();

/** A template problem, with the template file and the line. */
export class TemplateError extends Error {
  override name = 'TemplateError';
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly column: number | undefined,
    readonly reason: string,
  ) {
    super(`${file}${line !== undefined ? `:${line}` : ''}${column !== undefined ? `:${column}` : ''}: ${reason}`);
  }
}

function compiled(file: string): Handlebars.TemplateDelegate {
  let t = cache.get(file);
  if (!t) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      throw new TemplateError(file, undefined, undefined, 'template file not found');
    }
    let ast: hbs.AST.Program;
    try {
      // Parsed now (not lazily at first render) so syntax errors surface with their line; compiled
      // from the same tree, not parsed again.
      ast = hb.parse(text);
    } catch (err) {
      const m = /Parse error on line (\d+)/.exec((err as Error).message);
      const detail = (err as Error).message.split('\n').slice(-1)[0] ?? '';
      throw new TemplateError(file, m ? Number(m[1]) : undefined, undefined, `syntax error: ${detail}`);
    }
    t = hb.compile(ast, { strict: true, noEscape: true });
    cache.set(file, t);
  }
  return t;
}

export function renderTemplate(file: string, context: Record<string, unknown>): string {
  const t = compiled(file);
  try {
    return t(context);
  } catch (err) {
    const message = (err as Error).message;
    const missing = /"([^"]+)" not defined in .* - (\d+):(\d+)/.exec(message);
    if (missing) {
      throw new TemplateError(file, Number(missing[2]), Number(missing[3]) + 1, `unknown variable "${missing[1]}"`);
    }
    const at = / - (\d+):(\d+)$/.exec(message);
    throw new TemplateError(file, at ? Number(at[1]) : undefined, at ? Number(at[2]) + 1 : undefined, message.replace(/ - \d+:\d+$/, ''));
  }
}

/**
 * The value of a helper expression ("addressesOf 'backend'"), not its text: a helper hands it
 * over, so lists and numbers keep their type in task arguments.
 */
let captured: unknown;
hb.registerHelper('__capture', (value: unknown) => {
  captured = value;
  return '';
});
export function evaluateExpression(expression: string, context: Record<string, unknown>): unknown {
  captured = undefined;
  renderInline(`{{__capture (${expression})}}`, context);
  return captured;
}

/** Renders a small inline template (arguments, conditions): strict, compiled once per text. */
export function renderInline(text: string, context: Record<string, unknown>): string {
  let t = cache.get(`inline:${text}`);
  if (!t) {
    t = hb.compile(text, { strict: true, noEscape: true });
    cache.set(`inline:${text}`, t);
  }
  return t(context);
}
