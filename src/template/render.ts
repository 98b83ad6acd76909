import { readFileSync } from 'node:fs';
import Handlebars from 'handlebars';
import { Redactor } from '../secrets/redact.js';
import { templateHelpers } from './helpers.js';
import {
  isDefined,
  newTrace,
  plainValue,
  strictContext,
  traceInto,
  traced,
  UnknownVariable,
  unwrap,
  type RenderTrace,
} from './strict-context.js';

/**
 * One Handlebars environment for every template: HTML escaping OFF (these are config files,
 * not web pages), strict (an unknown variable is an error, never an empty string: see
 * strict-context.ts for helper arguments, blocks and `when`), and only known helpers.
 */
const hb = Handlebars.create();
for (const [name, fn] of Object.entries(templateHelpers)) hb.registerHelper(name, fn);
// `log` would print values (secrets included) on stdout, past every renderer: not offered.
hb.unregisterHelper('log');
/** {{#if (defined "name")}}: whether an optional variable exists (the strict way to test for one). */
hb.registerHelper('defined', (...a: unknown[]) => {
  const options = a[a.length - 1] as Handlebars.HelperOptions;
  const name = a[0];
  if (typeof name !== 'string' || a.length !== 2) throw new Error('defined takes one quoted name: (defined "tls_pem")');
  return isDefined((options.data as { root?: unknown } | undefined)?.root, name);
});
/** {{lookup map key}}: a key that may be missing (undefined then), like Handlebars' own. */
hb.registerHelper('lookup', (obj: unknown, field: unknown) => {
  if (obj === null || obj === undefined || (typeof field !== 'string' && typeof field !== 'number')) return undefined;
  const target = unwrap(obj);
  if (typeof target !== 'object' || target === null || !Object.prototype.hasOwnProperty.call(target, field))
    return undefined;
  return (obj as Record<string, unknown>)[field];
});

const compileOptions: CompileOptions = {
  strict: true,
  noEscape: true,
  knownHelpersOnly: true,
  knownHelpers: {
    ...Object.fromEntries(
      [...Object.keys(templateHelpers), 'defined', 'lookup', 'if', 'unless', 'each', 'with', '__capture'].map((n) => [
        n,
        true,
      ]),
    ),
    // Handlebars counts it as known by default: unknown here, so using it is a compile error.
    log: false,
  },
};
type CompileOptions = NonNullable<Parameters<typeof hb.compile>[1]>;

interface Compiled {
  run: Handlebars.TemplateDelegate;
  ast: hbs.AST.Program;
}

/** Compiled once per file (or inline text) per run, whatever the number of hosts. */
const cache = new Map<string, Compiled>();

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

/** What a render produced, and whether it derives from a secret (then it is never shown). */
export interface Rendered {
  text: string;
  sensitive: boolean;
}

function compileText(text: string, file: string): Compiled {
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
  try {
    return { run: hb.compile(ast, compileOptions), ast };
  } catch (err) {
    throw new TemplateError(file, undefined, undefined, helperProblem((err as Error).message));
  }
}

function compiledFile(file: string): Compiled {
  let t = cache.get(file);
  if (!t) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      throw new TemplateError(file, undefined, undefined, 'template file not found');
    }
    t = compileText(text, file);
    cache.set(file, t);
  }
  return t;
}

function compiledInline(text: string): Compiled {
  let t = cache.get(`inline:${text}`);
  if (!t) {
    t = compileText(text, '(inline)');
    cache.set(`inline:${text}`, t);
  }
  return t;
}

/** Handlebars' words for a helper that does not exist, in ours. */
function helperProblem(message: string): string {
  const unknown = /unknown helper (\S+)/.exec(message);
  if (unknown)
    return `unknown helper "${unknown[1]}"${unknown[1] === 'log' ? ' (log is not available: it would print values, secrets included)' : ''}`;
  return message.split('\n')[0] ?? message;
}

/**
 * Runs a compiled template over the strict context. Problems become a TemplateError with the line;
 * a message from a render that read secrets has their values masked (a helper may quote its input).
 */
function run(t: Compiled, file: string, context: Record<string, unknown>): Rendered {
  const trace = newTrace();
  try {
    const text = traceInto(trace, () => t.run(strictContext(context)));
    return { text, sensitive: trace.sensitive };
  } catch (err) {
    throw renderError(err, t.ast, file, trace);
  }
}

function renderError(err: unknown, ast: hbs.AST.Program, file: string, trace: RenderTrace): TemplateError {
  if (err instanceof TemplateError) return err;
  if (err instanceof UnknownVariable) {
    const at = findPath(ast, err.variable);
    return new TemplateError(
      file,
      at?.line,
      at ? at.column + 1 : undefined,
      `unknown variable "${at?.written ?? err.variable}"`,
    );
  }
  const message = err instanceof Error ? err.message : String(err);
  const missing = /"([^"]+)" not defined in .* - (\d+):(\d+)/.exec(message);
  if (missing)
    return new TemplateError(file, Number(missing[2]), Number(missing[3]) + 1, `unknown variable "${missing[1]}"`);
  const at = / - (\d+):(\d+)$/.exec(message);
  const masked = trace.secrets.size > 0 ? new Redactor([...trace.secrets], '(sensitive)').redact(message) : message;
  return new TemplateError(
    file,
    at ? Number(at[1]) : undefined,
    at ? Number(at[2]) + 1 : undefined,
    helperProblem(masked.replace(/ - \d+:\d+$/, '')),
  );
}

/** Where a template mentions a variable (by its last name: inside {{#each}} it is written relative). */
function findPath(
  ast: hbs.AST.Program,
  variable: string,
): { line: number; column: number; written: string } | undefined {
  const last = variable.split('.').pop();
  let found: { line: number; column: number; written: string } | undefined;
  const visit = (node: unknown): void => {
    if (found || node === null || typeof node !== 'object') return;
    const n = node as { type?: string; parts?: unknown; original?: unknown; loc?: hbs.AST.SourceLocation };
    if (n.type === 'PathExpression' && Array.isArray(n.parts) && n.parts[n.parts.length - 1] === last && n.loc) {
      found = { line: n.loc.start.line, column: n.loc.start.column, written: String(n.original) };
      return;
    }
    for (const v of Object.values(node)) if (v && typeof v === 'object') visit(v);
  };
  visit(ast);
  return found;
}

export function renderTemplate(file: string, context: Record<string, unknown>): Rendered {
  return run(compiledFile(file), file, context);
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
export function evaluateExpression(
  expression: string,
  context: Record<string, unknown>,
): { value: unknown; sensitive: boolean } {
  const { value, trace } = traced(() => {
    captured = undefined;
    renderInline(`{{__capture (${expression})}}`, context);
    // A plain copy, read inside the trace: secrets in a returned object count as read.
    return plainValue(captured);
  });
  return { value, sensitive: trace.sensitive };
}

/** Renders a small inline template (arguments, conditions): strict, compiled once per text. */
export function renderInline(text: string, context: Record<string, unknown>): Rendered {
  return run(compiledInline(text), '(inline)', context);
}
