import type * as NodeFs from 'node:fs';
import { chmodSync, type PathLike, type PathOrFileDescriptor, type StatSyncOptions } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cli } from '../../support/cli.js';
import { projectDir } from '../../support/project.js';

/**
 * Paths that exist but cannot be read must be named as unreadable ("permission denied"), never as
 * missing, and exit 1 (not 4). Tests often run as root, which reads everything: the file system
 * calls are made to fail with EACCES for chosen paths instead (one real chmod test runs the CLI as nobody).
 */
const denied = { stat: [] as string[], read: [] as string[] };

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof NodeFs>();
  const eacces = (path: unknown) =>
    Object.assign(new Error(`EACCES: permission denied, '${String(path)}'`), { code: 'EACCES' });
  const hit = (list: string[], path: unknown) => list.some((suffix) => String(path).endsWith(suffix));
  const statSync = ((path: PathLike, opts?: StatSyncOptions) => {
    if (hit(denied.stat, path)) throw eacces(path);
    return fs.statSync(path, opts);
  }) as typeof fs.statSync;
  const readFileSync = ((path: PathOrFileDescriptor, opts?: unknown) => {
    if (hit(denied.read, path) || hit(denied.stat, path)) throw eacces(path);
    return (fs.readFileSync as (p: PathOrFileDescriptor, o?: unknown) => unknown)(path, opts);
  }) as typeof fs.readFileSync;
  const readdirSync = ((path: PathLike, opts?: unknown) => {
    if (hit(denied.read, path)) throw eacces(path);
    return (fs.readdirSync as (p: PathLike, o?: unknown) => unknown)(path, opts);
  }) as typeof fs.readdirSync;
  return { ...fs, default: { ...fs, statSync, readFileSync, readdirSync }, statSync, readFileSync, readdirSync };
});

afterEach(() => {
  denied.stat = [];
  denied.read = [];
});

const CASES: Array<{ name: string; stat?: string[]; read?: string[]; file: string; message: RegExp }> = [
  {
    name: 'an unreadable inventory file',
    read: ['/inventory/test.yml'],
    file: 'inventory/test.yml',
    message: /cannot read inventory: permission denied/,
  },
  {
    name: 'an inventory directory that cannot be searched',
    stat: ['/inventory/test.yml', '/inventory/test.yaml'],
    read: ['/inventory'],
    file: 'inventory/test.yml',
    message: /cannot read the inventory: permission denied/,
  },
  {
    name: 'a role directory that cannot be searched',
    stat: ['/roles/base'],
    file: 'roles/base',
    message: /cannot read role "base": permission denied/,
  },
  {
    name: 'an unreadable tasks.yml',
    read: ['/roles/base/tasks.yml'],
    file: 'roles/base/tasks.yml',
    message: /cannot read task list: permission denied/,
  },
  {
    name: 'an unreadable playbook',
    read: ['/playbooks/site.yml'],
    file: 'playbooks/site.yml',
    message: /cannot read playbook: permission denied/,
  },
  {
    name: 'handlers.yml that cannot be looked at',
    stat: ['/roles/base/handlers.yml'],
    file: 'roles/base/handlers.yml',
    message: /cannot read handler list: permission denied/,
  },
];

describe('unreadable paths are named as unreadable, exit 1', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const cwd = projectDir();
      denied.stat = c.stat ?? [];
      denied.read = c.read ?? [];
      const r = await cli(['plan', 'test'], { cwd });
      expect(r.stderr).toMatch(c.message);
      expect(r.stderr).toContain(c.file);
      expect(r.stderr).not.toMatch(/not found|internal error|^\s+at /m);
      expect(r.code).toBe(1);
      expect(r.connected).toEqual([]);
    });
  }

  it('a real unreadable inventory directory (chmod 000), the CLI run as an unprivileged user', () => {
    const cwd = projectDir();
    // The project must be reachable by that user; only inventory/ is closed.
    chmodSync(cwd, 0o755);
    chmodSync(join(cwd, 'inventory'), 0o000);
    try {
      const r = runAsUnprivileged(['validate', 'test'], cwd);
      expect(r.stderr).toMatch(/inventory.*permission denied/);
      expect(r.stderr).not.toMatch(/internal error|^\s+at /m);
      expect(r.code).toBe(1);
    } finally {
      chmodSync(join(cwd, 'inventory'), 0o755);
    }
  });
});

const repoRoot = join(import.meta.dirname, '../../..');

/** The CLI from source in a child Node; as root, under nobody (root reads a chmod 000 directory). */
function runAsUnprivileged(args: string[], cwd: string): { stderr: string; code: number } {
  const node = [
    process.execPath,
    '--import',
    join(repoRoot, 'node_modules/tsx/dist/loader.mjs'),
    join(repoRoot, 'src/cli/entry.ts'),
    ...args,
  ];
  const argv =
    process.getuid?.() === 0 ? ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', '--', ...node] : node;
  const r = spawnSync(argv[0] ?? '', argv.slice(1), { cwd, encoding: 'utf8', env: { ...process.env, HOME: cwd } });
  return { stderr: r.stderr, code: r.status ?? 255 };
}

describe('a role file that copy: src: cannot read', () => {
  it('is reported as unreadable, not as missing', async () => {
    const cwd = projectDir({
      'roles/base/tasks.yml': '- name: logo\n  copy: { dest: /srv/logo.png, src: logo.png }\n',
      'roles/base/files/logo.png': 'x',
    });
    denied.read = ['/roles/base/files/logo.png'];
    const r = await cli(['plan', 'test'], { cwd });
    expect(r.stderr).toMatch(/roles\/base\/tasks\.yml:1: .*src "logo\.png": cannot read it: permission denied/);
    expect(r.stderr).not.toMatch(/no such file|internal error/);
    expect(r.code).toBe(1);
    expect(r.connected).toEqual([]);
  });
});
