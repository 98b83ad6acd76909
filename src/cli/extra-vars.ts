import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import type { Vars } from '../config/model.js';
import { pathKind } from '../config/path-kind.js';
import { varsSchema } from '../config/schema/common.js';
import { loadYamlFile } from '../config/yaml-file.js';
import { validateWith } from '../config/zod-diagnostics.js';
import { ConfigError } from '../diagnostics/diagnostic.js';
import { UsageError } from '../diagnostics/usage-error.js';
import { RESERVED_VARS } from '../engine/vars.js';
import { isVaultText } from '../secrets/vault-format.js';
import { findInlineVaults } from '../secrets/inline-vault.js';

/** A variable name as templates can read it: `{{ name }}`. */
const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const FORMS = 'give -e name=value, -e \'{"name": value}\' or -e @file.yml';

/** Commander's parser for a repeated -e: checks the form at once, keeps the arguments in order. */
export function collectExtraVar(value: string, previous: string[] | undefined): string[] {
  checkForm(value);
  return [...(previous ?? []), value];
}

function checkForm(value: string): void {
  if (!value.startsWith('@') && !value.trimStart().startsWith('{')) {
    const eq = value.indexOf('=');
    if (eq < 0) throw new UsageError(`-e "${value}": not a variable (${FORMS})`);
    const name = value.slice(0, eq);
    if (!VAR_NAME.test(name))
      throw new UsageError(
        `-e "${value}": "${name}" is not a variable name (letters, digits and _, not starting with a digit)`,
      );
  } else if (value === '@') throw new UsageError(`-e @: no file named (${FORMS})`);
}

/**
 * The extra variables of a run, later -e arguments over earlier ones. A value is typed as the same
 * text would be in a vars file (`port=8080` a number, `debug=true` a boolean, `v="1.10"` a
 * string); `name=` alone is the empty string. A bad argument is a UsageError; a bad @file a
 * ConfigError naming its line.
 */
export function readExtraVars(args: readonly string[], cwd: string): Vars {
  const out: Vars = {};
  args.forEach(checkForm);
  for (const arg of args) Object.assign(out, arg.startsWith('@') ? fromFile(arg.slice(1), cwd) : fromArgument(arg));
  const reserved = RESERVED_VARS.filter((n) => n in out);
  if (reserved.length > 0)
    throw new UsageError(`-e ${reserved.join(', ')}: a reserved name (the engine provides it); rename the variable`);
  const typed = varsSchema.safeParse(out);
  if (!typed.success) {
    const issue = typed.error.issues[0];
    throw new UsageError(`-e ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid value'}`);
  }
  return out;
}

function fromArgument(arg: string): Vars {
  if (arg.trimStart().startsWith('{')) {
    const value = parseValue(arg, arg);
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      throw new UsageError(`-e '${arg}': not a mapping of names to values (${FORMS})`);
    const bad = Object.keys(value).find((k) => !VAR_NAME.test(k));
    if (bad !== undefined) throw new UsageError(`-e '${arg}': "${bad}" is not a variable name`);
    return value as Vars;
  }
  const eq = arg.indexOf('=');
  const text = arg.slice(eq + 1);
  return { [arg.slice(0, eq)]: text === '' ? '' : parseValue(text, arg) };
}

function parseValue(text: string, arg: string): unknown {
  try {
    const value: unknown = parse(text);
    return value;
  } catch (err) {
    const reason = (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
    throw new UsageError(`-e '${arg}': not a YAML value (${reason}); quote it to pass a string`);
  }
}

function fromFile(path: string, cwd: string): Vars {
  const file = resolve(cwd, path);
  const kind = pathKind(file, 'the -e file');
  if (kind !== 'file')
    throw new UsageError(`-e @${path}: ${kind === 'missing' ? 'no such file' : 'not a file'} (${file})`);
  let head: Buffer;
  try {
    head = readFileSync(file).subarray(0, 16);
  } catch {
    head = Buffer.alloc(0);
  }
  if (isVaultText(head))
    throw new UsageError(
      `-e @${path}: the file is encrypted; extra vars are plain YAML (put encrypted variables in group_vars/ or host_vars/)`,
    );
  const yaml = loadYamlFile(file, '-e file');
  // A saved plan keeps the -e values; a vault value there would be saved masked and never match again.
  const vaulted = findInlineVaults(yaml.data)[0];
  if (vaulted)
    throw new UsageError(
      `-e @${path}${vaulted.vault.line !== undefined ? `:${vaulted.vault.line}` : ''}: ${vaulted.key} is a !vault value; extra vars are plain (put encrypted variables in group_vars/ or host_vars/)`,
    );
  const checked = validateWith(varsSchema, yaml.data ?? {}, yaml);
  if (!checked.ok) throw new ConfigError(checked.diagnostics);
  return checked.value;
}
