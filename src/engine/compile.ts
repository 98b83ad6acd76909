import { readFileSync } from 'node:fs';
import { join, normalize, relative } from 'node:path';
import { ConfigError, describeFsError, lineOf, type Diagnostic } from '../diagnostics/diagnostic.js';
import { resolveHostPattern } from '../config/host-pattern.js';
import type { Host, Project, Role, TaskDef } from '../config/model.js';
import { validateWith } from '../config/zod-diagnostics.js';
import { loadYamlFile } from '../config/yaml-file.js';
import { modules } from '../modules/registry.js';
import { TemplateError } from '../template/render.js';
import type { TaskContext } from '../modules/module.js';
import { evaluateWhen, loopItems } from './conditions.js';
import { emptyTaint, InterpolationError, interpolate, type Taint } from './interpolate.js';
import type { CompiledTask, HostProgram, PlayRun } from './program.js';
import { effectiveTags, Targeting } from './targeting.js';
import { hostContext, hostVars, inventoryContext, RESERVED_VARS } from './vars.js';

export interface CompileOptions {
  /** Host pattern limiting the run (--limit). */
  limit?: string;
  /** Only tasks with one of these tags (task, play or role name). */
  tags?: string[];
  /** No task with one of these tags. */
  skipTags?: string[];
  /** Per host, skip the tasks before the first one with this name. */
  startAtTask?: string;
  /**
   * Decrypted secrets (`Secret` values), seen by tasks and templates as `secrets.<name>`: a render
   * that reads one is sensitive, and so is what it produces.
   */
  secrets?: Record<string, unknown>;
}

/**
 * Turns the loaded project into one program per host: hosts selected, variables merged,
 * arguments rendered and validated against each module's schema. Offline: any problem
 * here is reported before a single host is contacted.
 */
export function compile(project: Project, opts: CompileOptions = {}): HostProgram[] {
  const { inventory } = project;
  const diagnostics: Diagnostic[] = [];
  const targeting = new Targeting(project, opts);
  checkReservedVars(project, diagnostics);
  const programs = new Map<string, HostProgram>();
  const everyone = inventoryContext(inventory);
  const byName = new Map(inventory.hosts.map((h) => [h.name, h]));
  // One selector per host across plays: --start-at-task carries over from play to play.
  const selectFor = new Map<string, ReturnType<Targeting['forHost']>>();
  project.plays.forEach((play, playIndex) => {
    const { hosts } = resolveHostPattern(play.hosts, inventory);
    const roles = play.roles.map((r) => project.roles.get(r)).filter((r): r is Role => r !== undefined);
    for (const hostName of hosts) {
      if (!targeting.includesHost(hostName)) continue;
      const host = byName.get(hostName);
      if (!host) continue;
      const vars = hostVars(inventory, host, play, roles, project.extraVars);
      const context = { ...vars, ...everyone, ...hostContext(host), secrets: opts.secrets ?? {} };
      const playRun: PlayRun = { index: playIndex, play, roles: [] };
      const earlier = programs.get(hostName)?.plays ?? [];
      const select = selectFor.get(hostName) ?? targeting.forHost();
      selectFor.set(hostName, select);
      for (const role of roles) {
        // A role applied again by a later play on this host: its keys name the play to stay unique.
        const again = earlier.some((p) => p.roles.some((r) => r.role === role.name));
        const prefix = again ? `${playIndex}:${role.name}` : role.name;
        const withTags = (t: TaskDef) => (c: CompiledTask) => ({ ...c, tags: effectiveTags(t, play, role.name) });
        const tasks = role.tasks.flatMap((t, i) =>
          select(t, play, role.name)
            ? expandTask(t, i, `${prefix}/${t.name}`, role, host, context, diagnostics).map(withTags(t))
            : [],
        );
        // A handler whose `when` is false here does not exist on this host: notifying it does nothing.
        const handlers = role.handlers.flatMap((t, i) =>
          expandTask(t, i, `${prefix}/handler/${t.name}`, role, host, context, diagnostics).map(withTags(t)),
        );
        for (const h of handlers) {
          if (handlers.filter((o) => o.name === h.name).length > 1) {
            diagnostics.push({
              file: h.source.file,
              path: [h.source.path[0] ?? 0, 'when'],
              message: `two handlers named "${h.name}" both apply to host ${hostName}`,
              hint: 'their `when` conditions must exclude each other',
            });
          }
        }
        playRun.roles.push({ role: role.name, tasks, handlers });
      }
      const program = programs.get(hostName) ?? { host, plays: [] };
      program.plays.push(playRun);
      programs.set(hostName, program);
    }
  });
  diagnostics.push(...targeting.problems([...programs.keys()]));
  if (diagnostics.length > 0) throw new ConfigError(dedupe(diagnostics));
  return inventory.hosts.map((h) => programs.get(h.name)).filter(isDefined);
}

function isDefined<T>(x: T | undefined): x is T {
  return x !== undefined;
}

/** A task's runs on this host: none if its `when` is false, one per item with `loop`. */
function expandTask(
  task: TaskDef,
  index: number,
  key: string,
  role: Role,
  host: Host,
  context: Record<string, unknown>,
  diagnostics: Diagnostic[],
): CompiledTask[] {
  const fail = (err: unknown): CompiledTask[] => {
    if (!(err instanceof InterpolationError)) throw err;
    diagnostics.push({
      file: task.source.file,
      path: [task.source.path[0] ?? index, ...err.path],
      ...lineOf(task.source),
      message: `${err.message} (host ${host.name})`,
    });
    return [];
  };
  let items: Array<{ item: unknown } | undefined>;
  // Items that came from a secret make every run of the task sensitive (their labels too).
  const loopTaint = emptyTaint();
  try {
    items = task.loop === undefined ? [undefined] : loopItems(task.loop, context, loopTaint).map((item) => ({ item }));
  } catch (err) {
    return fail(err);
  }
  const out: CompiledTask[] = [];
  items.forEach((entry, j) => {
    const ctx = entry ? { ...context, item: entry.item } : context;
    try {
      if (task.when !== undefined && !evaluateWhen(task.when, ctx)) return;
    } catch (err) {
      fail(err);
      return;
    }
    const label = loopTaint.strings.size > 0 ? `item ${j + 1}` : entry ? itemLabel(entry.item) : '';
    const named = entry ? { ...task, name: `${task.name} (${label})` } : task;
    const compiled = compileTask(named, entry ? `${key}[${j + 1}]` : key, role, host, ctx, diagnostics, loopTaint);
    if (compiled) out.push(compiled);
  });
  return out;
}

function itemLabel(item: unknown): string {
  if (item !== null && typeof item === 'object' && 'name' in item) return String(item.name);
  return typeof item === 'string' || typeof item === 'number' ? String(item) : JSON.stringify(item);
}

function compileTask(
  task: TaskDef,
  key: string,
  role: Role,
  host: Host,
  context: Record<string, unknown>,
  diagnostics: Diagnostic[],
  loopTaint: Taint,
): CompiledTask | undefined {
  const module = modules.get(task.module);
  if (!module) return undefined;
  const at = (path: ReadonlyArray<string | number>) => ({
    file: task.source.file,
    path: [...task.source.path, ...path],
    ...lineOf(task.source),
  });
  let rendered: unknown;
  const taint: Taint = { strings: new Set(loopTaint.strings), secrets: new Set(loopTaint.secrets) };
  try {
    rendered = interpolate(task.args, context, [], taint);
  } catch (err) {
    if (!(err instanceof InterpolationError)) throw err;
    diagnostics.push({
      ...at(err.path),
      message: `${err.message} (host ${host.name})`,
      hint: 'define it in the role defaults, the inventory vars, a group or the host',
    });
    return undefined;
  }
  const parsed = module.args.safeParse(rendered);
  if (!parsed.success) {
    // Only now is the file read again, to point at the line of the offending key.
    const checked = validateWith(module.args, rendered, loadYamlFile(task.source.file, 'task list'), task.source.path);
    if (!checked.ok)
      diagnostics.push(...checked.diagnostics.map((d) => ({ ...d, message: `${task.module}: ${d.message}` })));
    return undefined;
  }
  const ctx = taskContext(role, host, context);
  let args = parsed.data;
  try {
    args = module.prepare ? module.prepare(args, ctx) : args;
  } catch (err) {
    if (err instanceof TemplateError) {
      diagnostics.push({
        file: err.file,
        ...lineOf(err),
        ...(err.column !== undefined ? { column: err.column } : {}),
        message: `${err.reason} (task "${task.name}", host ${host.name})`,
      });
      return undefined;
    }
    if (!(err instanceof ConfigError)) throw err;
    diagnostics.push(...err.diagnostics.map((d) => ({ ...d, ...at([]), message: d.message })));
    return undefined;
  }
  const sensitive =
    task.sensitive === true || taint.strings.size > 0
      ? { all: task.sensitive === true, secrets: [...taint.secrets], strings: [...taint.strings] }
      : undefined;
  return {
    key,
    role: role.name,
    name: task.name,
    module,
    args,
    notify: task.notify,
    tags: task.tags,
    source: task.source,
    context: ctx,
    ...(sensitive ? { sensitive } : {}),
  };
}

function taskContext(role: Role, host: Host, vars: Record<string, unknown>): TaskContext {
  const filesDir = join(role.dir, 'files');
  return {
    host: host.name,
    roleDir: role.dir,
    vars,
    readRoleFile(rel: string): Buffer {
      const file = normalize(join(filesDir, rel));
      if (relative(filesDir, file).startsWith('..')) {
        throw new ConfigError([{ file: filesDir, message: `src "${rel}" points outside the role's files/ folder` }]);
      }
      try {
        return readFileSync(file);
      } catch (err) {
        // Only a missing file is "no such file": a permission problem must be named as one.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
          throw new ConfigError([{ file, message: `src "${rel}": cannot read it: ${describeFsError(err)}` }]);
        throw new ConfigError([
          { file, message: `src "${rel}": no such file in role ${role.name}`, hint: `put it in ${filesDir}/` },
        ]);
      }
    },
  };
}

function checkReservedVars(project: Project, diagnostics: Diagnostic[]): void {
  const inv = project.inventory;
  const scopes: Array<[string, Record<string, unknown>, ReadonlyArray<string | number>]> = [
    [inv.file, inv.vars, ['vars']],
    ...[...inv.groups].map(([g, v]): [string, Record<string, unknown>, ReadonlyArray<string | number>] => [
      inv.file,
      v.vars,
      ['groups', g, 'vars'],
    ]),
    ...inv.hosts.map((h): [string, Record<string, unknown>, ReadonlyArray<string | number>] => [
      inv.file,
      h.vars,
      ['hosts', h.name, 'vars'],
    ]),
    ...[...project.roles.values()].map((r): [string, Record<string, unknown>, ReadonlyArray<string | number>] => [
      join(r.dir, 'defaults.yml'),
      r.defaults,
      [],
    ]),
    ...(inv.varsFiles ?? []).map((f): [string, Record<string, unknown>, ReadonlyArray<string | number>] => [
      f.file,
      f.vars ?? {},
      [],
    ]),
    ['-e (extra vars)', project.extraVars ?? {}, []],
  ];
  for (const [file, vars, path] of scopes) {
    for (const name of RESERVED_VARS) {
      if (name in vars)
        diagnostics.push({
          file,
          path: [...path, name],
          message: `"${name}" is a reserved name (the engine provides it)`,
          hint: 'rename the variable',
        });
    }
  }
}

function dedupe(ds: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return ds.filter((d) => {
    const k = `${d.file}|${(d.path ?? []).join('.')}|${d.message.replace(/ \(host [^)]+\)$/, '')}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
