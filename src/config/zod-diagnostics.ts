import type { z } from 'zod';
import { editDistance } from './closest.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { YamlFile } from './yaml-file.js';
import { InlineVault } from '../secrets/inline-vault.js';
import { Secret } from '../secrets/secret.js';

/**
 * Validates `data` against `schema`, turning every zod issue into a diagnostic that names the
 * file, the key path and the line, in words a person editing YAML understands.
 */
export function validateWith<T>(
  schema: z.ZodType<T>,
  data: unknown,
  yaml: YamlFile,
  basePath: ReadonlyArray<string | number> = [],
): { ok: true; value: T } | { ok: false; diagnostics: Diagnostic[] } {
  const result = schema.safeParse(data, { reportInput: true });
  if (result.success) return { ok: true, value: result.data };
  const diagnostics = result.error.issues.flatMap((issue) => issueToDiagnostics(issue, yaml, basePath, schema));
  return { ok: false, diagnostics };
}

type Issue = z.core.$ZodIssue;

function issueToDiagnostics(
  issue: Issue,
  yaml: YamlFile,
  basePath: ReadonlyArray<string | number>,
  schema: z.ZodType,
): Diagnostic[] {
  const relPath = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  const path = [...basePath, ...relPath];
  const at = (p: ReadonlyArray<string | number>): Pick<Diagnostic, 'line' | 'column'> => {
    const pos = yaml.locate(p);
    return pos ? { line: pos.line, column: pos.column } : {};
  };
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({
      file: yaml.file,
      path: [...path, key],
      ...at([...path, key]),
      message: `unknown key "${key}"`,
      hint: knownKeysHint(key, allowedKeysAt(schema, relPath)),
    }));
  }
  const hint = issue.code === 'custom' ? hintOf(issue) : undefined;
  return [{ file: yaml.file, path, ...at(path), message: describeIssue(issue), ...(hint ? { hint } : {}) }];
}

/** A typed value's check (schema/values.ts) carries what would fix it in `params.hint`. */
function hintOf(issue: z.core.$ZodIssueCustom): string | undefined {
  const hint: unknown = issue.params?.['hint'];
  return typeof hint === 'string' ? hint : undefined;
}

function knownKeysHint(key: string, allowed: string[]): string {
  if (allowed.length === 0) return 'remove it, or check the spelling';
  const close = allowed.find((a) => editDistance(a, key) <= 2);
  const list = `allowed here: ${allowed.join(', ')}`;
  return close ? `did you mean "${close}"? (${list})` : list;
}

interface SchemaDef {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  element?: z.ZodType;
  valueType?: z.ZodType;
  in?: z.ZodType;
}

/** Walks the schema along `path` to list the keys an object there accepts (for "did you mean"). */
export function allowedKeysAt(schema: z.ZodType, path: ReadonlyArray<string | number>): string[] {
  let current: z.ZodType | undefined = schema;
  const unwrap = (s: z.ZodType | undefined): z.ZodType | undefined => {
    let cur = s;
    for (let i = 0; i < 10 && cur; i++) {
      const def = cur._zod.def as unknown as SchemaDef;
      if (['optional', 'default', 'nullable', 'prefault', 'readonly', 'catch'].includes(def.type)) cur = def.innerType;
      else if (def.type === 'pipe') cur = def.in;
      else break;
    }
    return cur;
  };
  for (const key of path) {
    current = unwrap(current);
    if (!current) return [];
    const def = current._zod.def as unknown as SchemaDef;
    if (def.type === 'object' && def.shape) current = def.shape[String(key)];
    else if (def.type === 'array') current = def.element;
    else if (def.type === 'record') current = def.valueType;
    else return [];
  }
  current = unwrap(current);
  const def = current?._zod.def as unknown as SchemaDef | undefined;
  return def?.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

function describeIssue(issue: Issue): string {
  switch (issue.code) {
    case 'invalid_type': {
      const received = (issue as { input?: unknown }).input;
      if (received === undefined) return `required key is missing (expected ${issue.expected})`;
      return `expected ${issue.expected}, got ${describeValue(received)}`;
    }
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_union':
      return issue.message && !issue.message.startsWith('Invalid input')
        ? issue.message
        : 'value does not match any allowed form';
    default:
      return issue.message;
  }
}

function describeValue(v: unknown): string {
  if (v === null) return 'null (an empty value)';
  if (Array.isArray(v)) return 'a list';
  // An inline !vault value, before or after it is decrypted: never shown.
  if (v instanceof InlineVault || v instanceof Secret) return 'a !vault value (an encrypted string)';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  // What is left is a number, boolean or bigint (YAML and JSON make nothing else).
  return typeof v === 'number' || typeof v === 'boolean' ? `${typeof v} ${v}` : typeof v;
}
