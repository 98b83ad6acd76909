import { readdirSync, readFileSync, realpathSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { modules } from '../modules/registry.js';
import { ConfigError, describeFsError, lineOf, type Diagnostic } from '../diagnostics/diagnostic.js';
import { pathKind } from './path-kind.js';
import { decodeUtf8 } from './utf8.js';
import type { Role, TaskDef, Vars } from './model.js';
import { varsSchema } from './schema/common.js';
import { taskCommonKeys, taskCommonShape } from './schema/role.js';
import { loadYamlFile, type YamlFile } from './yaml-file.js';
import { validateWith } from './zod-diagnostics.js';

const taskCommonSchema = z.strictObject(taskCommonShape);

/**
 * Loads roles/<name>/: tasks.yml (required), handlers.yml and defaults.yml (optional).
 * Problems are added to `diagnostics`; the role is returned only if it could be read.
 */
export function loadRole(name: string, rolesDir: string, diagnostics: Diagnostic[]): Role | undefined {
  const dir = join(rolesDir, name);
  const kind = collect(() => pathKind(dir, `role "${name}"`), diagnostics);
  if (kind === undefined) return undefined;
  if (kind !== 'directory') {
    diagnostics.push({
      file: dir,
      message: `role "${name}" not found`,
      hint: `create ${dir}/tasks.yml, or check the role name in the playbook`,
    });
    return undefined;
  }
  const tasksFile = join(dir, 'tasks.yml');
  const tasksKind = collect(() => pathKind(tasksFile, 'task list'), diagnostics);
  if (tasksKind === undefined) return undefined;
  if (tasksKind === 'missing') {
    diagnostics.push({ file: tasksFile, message: `role "${name}" has no tasks.yml` });
    return undefined;
  }
  const tasks = loadTaskList(tasksFile, diagnostics, 'tasks');
  const handlersFile = join(dir, 'handlers.yml');
  const handlers = exists(handlersFile, 'handler list', diagnostics)
    ? loadTaskList(handlersFile, diagnostics, 'handlers')
    : [];
  const defaultsFile = join(dir, 'defaults.yml');
  let defaults: Vars = {};
  if (exists(defaultsFile, 'role defaults', diagnostics)) {
    const yaml = collect(() => loadYamlFile(defaultsFile, 'role defaults'), diagnostics);
    if (yaml) {
      const checked = validateWith(varsSchema, yaml.data ?? {}, yaml);
      if (checked.ok) defaults = checked.value;
      else diagnostics.push(...checked.diagnostics);
    }
  }
  checkTemplatesText(join(dir, 'templates'), diagnostics);
  checkTaskNamesUnique(tasks, diagnostics);
  const names = new Set<string>();
  // Two handlers may share a name only when `when` picks one of them per host (checked per host at compile).
  handlers.forEach((h) => {
    const twin = handlers.find((o) => o !== h && o.name === h.name);
    if (twin && (h.when === undefined || twin.when === undefined) && !names.has(h.name)) {
      diagnostics.push({
        file: h.source.file,
        path: [...h.source.path, 'name'],
        ...lineOf(h.source),
        message: `two handlers are named "${h.name}"`,
        hint: 'rename one, or give both a `when` so each host gets one',
      });
    }
    names.add(h.name);
  });
  return { name, dir, defaults, tasks, handlers };
}

/**
 * A task's name is its identity: "<role>/<name>" keys saved plans, the JSON report and
 * --start-at-task. A numeric suffix for twins would shift when one is inserted or removed, and two
 * same-named tasks read alike in every report, so a second one is refused.
 */
function checkTaskNamesUnique(tasks: TaskDef[], diagnostics: Diagnostic[]): void {
  const first = new Map<string, TaskDef>();
  for (const t of tasks) {
    const earlier = first.get(t.name);
    if (!earlier) {
      first.set(t.name, t);
      continue;
    }
    diagnostics.push({
      file: t.source.file,
      path: [t.source.path[0] ?? 0, 'name'],
      ...lineOf(t.source),
      message: `two tasks of this role are named "${t.name}"${earlier.source.line !== undefined ? ` (the first on line ${earlier.source.line})` : ''}`,
      hint: 'give each task its own name: it identifies the task in plans, saved plans and --start-at-task',
    });
  }
}

/**
 * Templates are text: a byte that is not UTF-8 would be silently replaced in the deployed file.
 * (Binary files go in files/, deployed with copy: src:, and are sent byte for byte.)
 */
function checkTemplatesText(dir: string, diagnostics: Diagnostic[]): void {
  if (collect(() => pathKind(dir, 'the templates folder'), diagnostics) !== 'directory') return;
  const pending = [dir];
  const seen = new Set<string>();
  while (pending.length > 0) {
    const current = pending.pop() as string;
    let entries: Dirent[];
    try {
      entries = readdirSync(current, { withFileTypes: true });
    } catch (err) {
      diagnostics.push({ file: current, message: `cannot read the templates folder: ${describeFsError(err)}` });
      continue;
    }
    for (const entry of entries) {
      const path = join(current, entry.name);
      const kind = collect(() => pathKind(path, 'template'), diagnostics);
      if (kind === 'directory') {
        // A link back up the tree must not send this walk round in circles.
        const real = realpathOrUndefined(path);
        if (real !== undefined && !seen.has(real)) {
          seen.add(real);
          pending.push(path);
        }
      } else if (kind === 'file') {
        collect(() => decodeUtf8(readOrThrow(path), path, 'the template'), diagnostics);
      }
    }
  }
}

function realpathOrUndefined(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

function readOrThrow(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError([{ file: path, message: `cannot read template: ${describeFsError(err)}` }]);
  }
}

function collect<T>(fn: () => T, diagnostics: Diagnostic[]): T | undefined {
  try {
    return fn();
  } catch (err) {
    const ds = (err as { diagnostics?: Diagnostic[] }).diagnostics;
    if (!ds) throw err;
    diagnostics.push(...ds);
    return undefined;
  }
}

/** Whether an optional file is there (an unreadable one is reported, not taken for absent). */
function exists(file: string, what: string, diagnostics: Diagnostic[]): boolean {
  const kind = collect(() => pathKind(file, what), diagnostics);
  return kind !== undefined && kind !== 'missing';
}

function loadTaskList(file: string, diagnostics: Diagnostic[], kind: 'tasks' | 'handlers'): TaskDef[] {
  const yaml = collect(() => loadYamlFile(file, kind === 'tasks' ? 'task list' : 'handler list'), diagnostics);
  if (!yaml) return [];
  const data = yaml.data ?? [];
  // An empty (or all-comment) list is a mistake, e.g. a file truncated or not yet written: not "nothing to do".
  if (Array.isArray(data) && data.length === 0) {
    diagnostics.push({
      file,
      line: 1,
      message: `no ${kind} in this file`,
      hint:
        kind === 'tasks'
          ? 'a role needs at least one task ("- name: ..." with one module key)'
          : 'delete handlers.yml if the role has no handlers',
    });
    return [];
  }
  if (!Array.isArray(data)) {
    diagnostics.push({ file, line: 1, message: 'expected a list of tasks (each starting with "- name: ...")' });
    return [];
  }
  const tasks: TaskDef[] = [];
  data.forEach((item: unknown, index) => {
    const task = parseTask(item, index, yaml, diagnostics);
    if (task) tasks.push(task);
  });
  return tasks;
}

function parseTask(item: unknown, index: number, yaml: YamlFile, diagnostics: Diagnostic[]): TaskDef | undefined {
  const at = (path: ReadonlyArray<string | number>) => ({ file: yaml.file, path, ...yaml.locate(path) });
  if (item === null || typeof item !== 'object' || Array.isArray(item)) {
    diagnostics.push({ ...at([index]), message: 'a task must be a mapping with a name and one module key' });
    return undefined;
  }
  const record = item as Record<string, unknown>;
  const moduleKeys = Object.keys(record).filter((k) => !taskCommonKeys.includes(k));
  const known = [...modules.keys()];
  const unknown = moduleKeys.filter((k) => !modules.has(k));
  for (const k of unknown) {
    diagnostics.push({
      ...at([index, k]),
      message: `unknown module or task key "${k}"`,
      hint: `modules: ${known.join(', ')}; task keys: ${taskCommonKeys.join(', ')}`,
    });
  }
  if (unknown.length > 0) return undefined;
  if (moduleKeys.length !== 1) {
    diagnostics.push({
      ...at([index]),
      message:
        moduleKeys.length === 0
          ? 'task has no module key'
          : `task has ${moduleKeys.length} module keys (${moduleKeys.join(', ')}); a task does one thing`,
      hint: `use exactly one of: ${known.join(', ')}`,
    });
    return undefined;
  }
  const moduleName = moduleKeys[0] ?? '';
  const common: Record<string, unknown> = {};
  for (const k of taskCommonKeys) if (k in record) common[k] = record[k];
  const checked = validateWith(taskCommonSchema, common, yaml, [index]);
  if (!checked.ok) {
    diagnostics.push(...checked.diagnostics);
    return undefined;
  }
  const notify =
    checked.value.notify === undefined
      ? []
      : Array.isArray(checked.value.notify)
        ? checked.value.notify
        : [checked.value.notify];
  const pos = yaml.locate([index]);
  return {
    name: checked.value.name,
    module: moduleName,
    args: record[moduleName] ?? {},
    notify,
    tags: checked.value.tags ?? [],
    ...(checked.value.when !== undefined ? { when: checked.value.when } : {}),
    ...(checked.value.loop !== undefined ? { loop: checked.value.loop } : {}),
    ...(checked.value.sensitive === true ? { sensitive: true } : {}),
    source: { file: yaml.file, path: [index, moduleName], ...(pos ? { line: pos.line } : {}) },
  };
}
