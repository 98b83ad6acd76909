import { execFileSync } from 'node:child_process';
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { factReader, NeedFacts } from '../../../src/facts/fact.js';
import { PlanError, type Change, type PlanResult } from '../../../src/modules/change.js';
import type { AnyModule, TaskContext } from '../../../src/modules/module.js';
import type { Op } from '../../../src/modules/ops.js';
import { modules } from '../../../src/modules/registry.js';
import { STAND_IN_HOST_FACTS } from '../../../src/facts/host-facts.js';
import type { RemoteHost } from '../../../src/transport/host.js';
import { ShellHost } from '../../../src/transport/shell-host.js';
import { FakeHost } from '../../support/fake-host/index.js';
import { LocalTransport } from '../../support/local-transport.js';

/**
 * pyinfra-style operation tests: each YAML case gives arguments and the host's state, and the
 * changes and ops expected. Every case that changes something is then applied to the in-memory
 * host and planned again: the second plan must be empty (idempotency, checked automatically).
 */
type EntrySpec = Record<string, unknown>;
interface Case {
  name: string;
  args: unknown;
  host: Record<string, EntrySpec>;
  changes?: Array<{
    action: string;
    subject: string;
    details: string[];
    diff?: string;
    diffMatches?: string;
    sensitive?: boolean;
  }>;
  ops?: Array<Record<string, unknown>>;
  ok?: string;
  error?: string;
  invalid?: string;
  /** Guard commands that succeed on the host. */
  succeeds?: string[];
  /** Guard commands that succeed once the ops have run. */
  succeedsAfter?: string[];
  /** What each command run by an op creates on the fake host. */
  effects?: Record<string, Record<string, EntrySpec>>;
  /** Variables the task sees. */
  vars?: Record<string, unknown>;
  /** Host facts (over the defaults of a 2-CPU, 2 GiB Debian 12 host). */
  facts?: Record<string, unknown>;
  /** systemd units on the host, by full name. */
  units?: Record<
    string,
    {
      active: 'active' | 'inactive' | 'failed';
      unitFile: string;
      needDaemonReload?: boolean;
      conditionFailed?: boolean;
    }
  >;
  /** Debian packages: installed version and apt's candidate. */
  packages?: Record<string, { installed?: string; candidate?: string; published?: string }>;
  /** Accounts on the host. */
  setup?: {
    users?: Record<string, { uid: number; group: string; groups: string[]; home: string; shell: string }>;
    groups?: Record<string, { gid: number; members: string[] }>;
  };
  /** The MariaDB server: running (default true), databases and accounts ("user@host"). */
  mysql?: {
    running?: boolean;
    databases?: Record<string, { charset: string; collation: string }>;
    accounts?: Record<string, { password?: string; grants?: Record<string, string> }>;
  };
  /** Seconds since the apt lists were refreshed (default 0; null: never). */
  aptCacheAge?: number | null;
  /** The change repeats on every run by design (e.g. a service restart); no idempotency check. */
  repeats?: boolean;
}

const casesDir = join(import.meta.dirname, 'cases');
/** The role the cases run in: test/unit/modules/role (templates/ and files/). */
const roleDir = join(import.meta.dirname, 'role');
function contextFor(c: Case): TaskContext {
  return {
    host: 'fake',
    roleDir,
    vars: c.vars ?? {},
    readRoleFile: (rel) => readFileSync(join(roleDir, 'files', rel)),
    ...(c.facts ? { hostFacts: { ...STAND_IN_HOST_FACTS, hostname: 'fake', ...c.facts } } : {}),
  };
}

/** Probes the declared facts, plans, and reads what a planner asks for on top (as the engine does). */
async function plan(module: AnyModule, args: unknown, host: RemoteHost, ctx: TaskContext): Promise<PlanResult> {
  const values = new Map<string, unknown>();
  let wanted = module.facts(args, ctx);
  for (let round = 0; round < 3; round++) {
    for (const [id, outcome] of await host.probe(wanted)) {
      if (!outcome.ok) throw new Error(`fact ${id}: ${outcome.error}`);
      values.set(id, outcome.value);
    }
    try {
      return module.plan(args, factReader(values), ctx);
    } catch (err) {
      if (!(err instanceof NeedFacts)) throw err;
      wanted = err.facts;
    }
  }
  throw new Error('a planner kept asking for more facts');
}

function opView(op: Op): Record<string, unknown> {
  if (op.op === 'write') return { ...op, content: op.content.toString('utf8') };
  // A command is compared by its shell text.
  if (op.op === 'exec') return { ...op, command: op.command.text };
  return { ...op };
}

function changeView(c: Change, expected: { diffMatches?: string } | undefined) {
  // Content hashes are checked by the saved-plan tests; here they would only be noise.
  const { ops: _ops, content: _content, ...rest } = c;
  if (expected?.diffMatches !== undefined) {
    const { diff, ...noDiff } = rest;
    expect(diff).toMatch(new RegExp(expected.diffMatches));
    return { ...noDiff, diffMatches: expected.diffMatches };
  }
  return rest;
}

for (const file of readdirSync(casesDir).filter((f) => f.endsWith('.yml'))) {
  const moduleName = file.replace(/\.yml$/, '');
  const module = modules.get(moduleName);
  const cases = parse(readFileSync(join(casesDir, file), 'utf8')) as Case[];

  describe(`module ${moduleName}`, () => {
    it('exists in the registry', () => {
      expect(module).toBeDefined();
    });
    if (!module) return;

    for (const c of cases) {
      it(c.name, async () => {
        const ctx = contextFor(c);
        const parsed = module.args.safeParse(c.args);
        if (c.invalid !== undefined) {
          expect(parsed.success).toBe(false);
          if (!parsed.success && c.invalid !== '')
            expect(parsed.error.issues.map((i) => i.path.join('.'))).toContain(c.invalid);
          return;
        }
        expect(parsed.success, parsed.success ? '' : JSON.stringify(parsed.error.issues)).toBe(true);
        if (!parsed.success) return;
        const args = module.prepare ? module.prepare(parsed.data, ctx) : parsed.data;
        const host = new FakeHost();
        for (const [path, entry] of Object.entries(c.host ?? {})) host.put(path, entry);
        for (const [name, u] of Object.entries(c.setup?.users ?? {})) host.users.set(name, { ...u });
        for (const [name, g] of Object.entries(c.setup?.groups ?? {})) host.groups.set(name, { ...g });
        if (c.mysql?.running === false) host.mysql.running = false;
        for (const [name, d] of Object.entries(c.mysql?.databases ?? {})) host.mysql.databases.set(name, d);
        for (const [key, acc] of Object.entries(c.mysql?.accounts ?? {}))
          host.mysql.accounts.set(key, {
            ...(acc.password !== undefined ? { password: acc.password } : {}),
            grants: new Map(Object.entries(acc.grants ?? {})),
          });
        for (const [name, u] of Object.entries(c.units ?? {})) host.units.set(name, { ...u });
        for (const [name, p] of Object.entries(c.packages ?? {})) host.packages.set(name, { ...p });
        if (c.aptCacheAge !== undefined) host.aptCacheAge = c.aptCacheAge ?? Number.POSITIVE_INFINITY;
        const succeeding = new Set(c.succeeds ?? []);
        host.command = (cmd, h) => {
          for (const [path, entry] of Object.entries(c.effects?.[cmd] ?? {})) h.put(path, entry);
          if (c.effects && cmd in c.effects) for (const g of c.succeedsAfter ?? []) succeeding.add(g);
          return succeeding.has(cmd) || (c.effects !== undefined && cmd in c.effects) ? 0 : 1;
        };

        if (c.error !== undefined) {
          await expect(plan(module, args, host, ctx)).rejects.toThrow(PlanError);
          await expect(plan(module, args, host, ctx)).rejects.toThrow(c.error);
          return;
        }
        const first = await plan(module, args, host, ctx);
        if (c.ok !== undefined) {
          expect(first).toEqual({ status: 'ok', reason: c.ok });
          return;
        }
        expect(first.status).toBe('change');
        if (first.status !== 'change') return;
        expect(first.changes.map((ch, i) => changeView(ch, c.changes?.[i]))).toEqual(c.changes);
        expect(first.changes.flatMap((ch) => ch.ops).map(opView)).toEqual(c.ops);

        // Idempotency: apply what was planned, plan again, expect nothing to do.
        await host.apply(first.changes.flatMap((ch) => ch.ops));
        const second = await plan(module, args, host, ctx);
        expect(second.status, `second plan after apply: ${JSON.stringify(second)}`).toBe(c.repeats ? 'change' : 'ok');
      });
    }
  });
}

/**
 * Modules whose ops only touch files also run each case on this machine's own shell, in a scratch
 * directory: the real probe snippets and the real compiled ops (no fake), planned again after the
 * apply, which must be empty. Cases that need a host's commands (guards, validate) or accounts this
 * machine lacks stay with the fake.
 */
const LOCAL_SHELL_MODULES = new Set(['file', 'copy', 'line', 'template']);
const PATH_ARGS = ['path', 'dest', 'target'];

function localAccount(kind: 'passwd' | 'group', name: string): boolean {
  try {
    execFileSync('getent', [kind, name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function runsOnLocalShell(c: Case): boolean {
  if (c.invalid !== undefined || c.error !== undefined || c.succeeds || c.effects || c.repeats) return false;
  const args = (c.args ?? {}) as Record<string, unknown>;
  if (args['validate'] !== undefined) return false;
  const owners = [args, ...Object.values(c.host ?? {})].flatMap((e) => [e['owner'], e['group']]);
  return owners.every((o) => typeof o !== 'string' || localAccount('passwd', o) || localAccount('group', o));
}

/** The case's absolute paths, moved under the scratch root. */
function inScratch(root: string, value: unknown): unknown {
  return typeof value === 'string' && value.startsWith('/') ? `${root}${value}` : value;
}

function scratchArgs(root: string, args: unknown): unknown {
  const out: Record<string, unknown> = { ...(args as Record<string, unknown>) };
  for (const key of PATH_ARGS) if (key in out) out[key] = inScratch(root, out[key]);
  return out;
}

function makeEntry(root: string, path: string, e: EntrySpec): void {
  const at = `${root}${path}`;
  mkdirSync(dirname(at), { recursive: true });
  const type = (e['type'] as string | undefined) ?? 'file';
  if (type === 'directory') mkdirSync(at, { recursive: true, mode: 0o755 });
  else if (type === 'link') symlinkSync(String(inScratch(root, e['target'])), at);
  else writeFileSync(at, typeof e['content'] === 'string' ? e['content'] : '');
  if (type === 'link') return;
  const mode = (e['mode'] as string | undefined) ?? (type === 'directory' ? '0755' : '0644');
  execFileSync('chmod', [mode, at]);
  execFileSync('chown', [
    `${(e['owner'] as string | undefined) ?? 'root'}:${(e['group'] as string | undefined) ?? 'root'}`,
    at,
  ]);
}

const asRoot = process.getuid?.() === 0;

for (const file of readdirSync(casesDir).filter((f) => LOCAL_SHELL_MODULES.has(f.replace(/\.yml$/, '')))) {
  const moduleName = file.replace(/\.yml$/, '');
  const module = modules.get(moduleName);
  const cases = (parse(readFileSync(join(casesDir, file), 'utf8')) as Case[]).filter(runsOnLocalShell);
  // Owners and modes are set with chown: the shell run needs root, as CI and the e2e suite have.
  describe.runIf(asRoot)(`module ${moduleName} on a real shell in a scratch directory`, () => {
    for (const c of cases) {
      it(c.name, async () => {
        if (!module) throw new Error(`no module ${moduleName}`);
        const root = mkdtempSync(join(tmpdir(), 'kanka-case-'));
        try {
          for (const [path, entry] of Object.entries(c.host ?? {})) makeEntry(root, path, entry);
          const ctx = contextFor(c);
          const parsed = module.args.parse(scratchArgs(root, c.args));
          const args = module.prepare ? module.prepare(parsed, ctx) : parsed;
          const host = new ShellHost(new LocalTransport(), false);
          const first = await plan(module, args, host, ctx);
          if (c.ok !== undefined) {
            expect(first.status).toBe('ok');
            return;
          }
          expect(first.status).toBe('change');
          if (first.status !== 'change') return;
          // The same changes as the fake predicted (subjects carry the scratch root).
          expect(first.changes.map((ch) => ch.action)).toEqual(c.changes?.map((ch) => ch.action));
          expect(first.changes.map((ch) => ch.subject)).toEqual(c.changes?.map((ch) => `${root}${ch.subject}`));
          await host.apply(first.changes.flatMap((ch) => ch.ops));
          const second = await plan(module, args, host, ctx);
          expect(second.status, `second plan after apply: ${JSON.stringify(second)}`).toBe('ok');
          for (const op of first.changes.flatMap((ch) => ch.ops))
            if (op.op === 'write') expect(readFileSync(op.path)).toEqual(Buffer.from(op.content));
            else if (op.op === 'symlink') expect(readlinkSync(op.path)).toBe(op.target);
            else if (op.op === 'remove') expect(() => lstatSync(op.path)).toThrow();
        } finally {
          rmSync(root, { recursive: true, force: true });
        }
      });
    }
  });
}
