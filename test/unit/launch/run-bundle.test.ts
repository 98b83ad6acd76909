import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempTree } from '../../support/tmp.js';

const repoRoot = join(import.meta.dirname, '..', '..', '..');
const runBundleModule = join(repoRoot, 'src', 'launch', 'run-bundle.ts');
// By path, so that a child started in another directory finds it.
const tsxLoader = join(repoRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs');

/** Runs `bundle` the way bin/kanka-infra does, in a child Node (the cache is written at its exit). */
function launch(
  bundle: string,
  args: string[],
  env: Record<string, string>,
): { stdout: string; stderr: string; code: number } {
  const code = `import(${JSON.stringify(runBundleModule)}).then((m) => m.runBundle(${JSON.stringify(bundle)}, ${JSON.stringify(args)}))`;
  const r = spawnSync(process.execPath, ['--import', tsxLoader, '-e', code], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  return { stdout: r.stdout, stderr: r.stderr, code: r.status ?? 255 };
}

/** A CommonJS "bundle" that uses require, module and its exit code like the real one. */
const bundleSource = (word: string) =>
  `const { join } = require('node:path');\nfunction greet(w) { return join('say', w); }\nprocess.stdout.write(greet('${word}') + '\\n');\nprocess.exitCode = 3;\n`;

const cacheFiles = (cacheHome: string) =>
  existsSync(join(cacheHome, 'kanka-infra')) ? readdirSync(join(cacheHome, 'kanka-infra')) : [];

// Each case starts child Node processes (about 2 s each on a loaded 2-core machine).
describe('running the bundled CLI with a V8 code cache', { timeout: 60_000 }, () => {
  it('writes a cache per command at exit, reuses it, and keys it on the content (V8 only checks the length)', () => {
    const dir = tempTree({ 'cli.cjs': bundleSource('hello') });
    const bundle = join(dir, 'cli.cjs');
    const env = { XDG_CACHE_HOME: join(dir, 'cache') };

    const first = launch(bundle, ['plan', 'prod'], env);
    expect(first).toMatchObject({ stdout: 'say/hello\n', code: 3 });
    const files = cacheFiles(env.XDG_CACHE_HOME);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^[0-9a-f]{16}-node.*-plan\.v8cache$/);
    const cacheFile = join(env.XDG_CACHE_HOME, 'kanka-infra', files[0] ?? '');
    const written = statSync(cacheFile).mtimeMs;

    // Accepted: same result, and the cache is left as it is.
    expect(launch(bundle, ['plan', 'prod'], env)).toMatchObject({ stdout: 'say/hello\n', code: 3 });
    expect(statSync(cacheFile).mtimeMs).toBe(written);

    // Another command has its own cache.
    launch(bundle, ['drift', 'prod'], env);
    expect(cacheFiles(env.XDG_CACHE_HOME).sort()).toEqual([files[0], files[0]?.replace(/-plan\./, '-drift.')].sort());

    // A new build of the same length: new result, and the old build's caches are gone.
    writeFileSync(bundle, bundleSource('world'));
    expect(launch(bundle, ['plan', 'prod'], env)).toMatchObject({ stdout: 'say/world\n', code: 3 });
    const after = cacheFiles(env.XDG_CACHE_HOME);
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(files[0]);
  });

  it('a corrupt cache is refused by V8 and replaced; the CLI runs the same', () => {
    const dir = tempTree({ 'cli.cjs': bundleSource('hello') });
    const bundle = join(dir, 'cli.cjs');
    const env = { XDG_CACHE_HOME: join(dir, 'cache') };
    launch(bundle, ['plan'], env);
    const cacheFile = join(env.XDG_CACHE_HOME, 'kanka-infra', cacheFiles(env.XDG_CACHE_HOME)[0] ?? '');
    writeFileSync(cacheFile, 'not a code cache');
    expect(launch(bundle, ['plan'], env)).toMatchObject({ stdout: 'say/hello\n', code: 3 });
    expect(readFileSync(cacheFile).toString()).not.toBe('not a code cache');
  });

  it('temporary files a killed run left are removed once a minute old, not while another run may be writing them', () => {
    const dir = tempTree({
      'cli.cjs': bundleSource('hello'),
      'cache/kanka-infra/.x-plan.v8cache.kanka-tmp-1': 'old',
      'cache/kanka-infra/.x-plan.v8cache.kanka-tmp-2': 'fresh',
    });
    chmodSync(join(dir, 'cache', 'kanka-infra'), 0o700);
    const old = join(dir, 'cache', 'kanka-infra', '.x-plan.v8cache.kanka-tmp-1');
    utimesSync(old, new Date(Date.now() - 120_000), new Date(Date.now() - 120_000));
    launch(join(dir, 'cli.cjs'), ['plan'], { XDG_CACHE_HOME: join(dir, 'cache') });
    const left = cacheFiles(join(dir, 'cache'));
    expect(left).toContain('.x-plan.v8cache.kanka-tmp-2');
    expect(left).not.toContain('.x-plan.v8cache.kanka-tmp-1');
    expect(left.filter((f) => f.endsWith('-plan.v8cache'))).toHaveLength(1);
  });

  it('off, or nowhere to write: no cache, same result', () => {
    const dir = tempTree({ 'cli.cjs': bundleSource('hello'), 'not-a-dir': 'x' });
    const bundle = join(dir, 'cli.cjs');
    const off = launch(bundle, ['plan'], { XDG_CACHE_HOME: join(dir, 'cache'), KANKA_INFRA_CODE_CACHE: 'off' });
    expect(off).toMatchObject({ stdout: 'say/hello\n', stderr: '', code: 3 });
    expect(existsSync(join(dir, 'cache'))).toBe(false);
    const blocked = launch(bundle, ['plan'], { XDG_CACHE_HOME: join(dir, 'not-a-dir') });
    expect(blocked).toMatchObject({ stdout: 'say/hello\n', stderr: '', code: 3 });
  });

  it('a relative XDG_CACHE_HOME is ignored (as the XDG spec says): the cache goes to $HOME/.cache', () => {
    const dir = tempTree({ 'cli.cjs': bundleSource('hello') });
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        tsxLoader,
        '-e',
        `import(${JSON.stringify(runBundleModule)}).then((m) => m.runBundle(${JSON.stringify(join(dir, 'cli.cjs'))}, ['plan']))`,
      ],
      {
        cwd: dir,
        env: { ...process.env, XDG_CACHE_HOME: 'relative-cache', HOME: join(dir, 'home') },
        encoding: 'utf8',
      },
    );
    expect(r.stdout).toBe('say/hello\n');
    expect(existsSync(join(dir, 'relative-cache'))).toBe(false);
    expect(cacheFiles(join(dir, 'home', '.cache'))).toHaveLength(1);
  });

  it('a forged cache (another build of the same length: V8 would run its code) is not used; a planted symlink is neither read nor written through', () => {
    const dir = tempTree({
      'a/cli.cjs': bundleSource('hello'),
      'b/cli.cjs': bundleSource('world'),
      victim: 'do not touch',
    });
    const env = { XDG_CACHE_HOME: join(dir, 'cache') };
    launch(join(dir, 'a', 'cli.cjs'), ['plan'], env);
    const cacheDir = join(env.XDG_CACHE_HOME, 'kanka-infra');
    const aCache = join(cacheDir, cacheFiles(env.XDG_CACHE_HOME)[0] ?? '');
    // The name b's cache would have: a's cache copied there.
    const bName = `${createHash('sha256').update(bundleSource('world')).digest('hex').slice(0, 16)}-node${process.version}-${process.arch}-plan.v8cache`;
    copyFileSync(aCache, join(cacheDir, bName));
    const forged = readFileSync(aCache);
    expect(launch(join(dir, 'b', 'cli.cjs'), ['plan'], env)).toMatchObject({
      stdout: 'say/world\n',
      stderr: '',
      code: 3,
    });
    // It was replaced by b's own.
    expect(readFileSync(join(cacheDir, bName))).not.toEqual(forged);

    // A symlink at the cache's name: not followed to read, and replaced (not written through).
    const victim = join(dir, 'victim');
    const dName = join(cacheDir, bName.replace('-plan.', '-drift.'));
    symlinkSync(victim, dName);
    expect(launch(join(dir, 'b', 'cli.cjs'), ['drift'], env)).toMatchObject({ stdout: 'say/world\n', code: 3 });
    expect(readFileSync(victim, 'utf8')).toBe('do not touch');
    expect(lstatSync(dName).isSymbolicLink()).toBe(false);
    // A symlink to a valid cache of this bundle is not used either: it is replaced by a file.
    const vName = join(cacheDir, bName.replace('-plan.', '-validate.'));
    symlinkSync(join(cacheDir, bName), vName);
    launch(join(dir, 'b', 'cli.cjs'), ['validate'], env);
    expect(lstatSync(vName).isSymbolicLink()).toBe(false);
    expect(existsSync(join(cacheDir, bName))).toBe(true);
  });

  it('a cache directory others can write to is refused with one line; the CLI runs without it and writes nothing there', () => {
    const dir = tempTree({ 'cli.cjs': bundleSource('hello') });
    const cacheDir = join(dir, 'cache', 'kanka-infra');
    mkdirSync(cacheDir, { recursive: true });
    chmodSync(cacheDir, 0o777);
    const r = launch(join(dir, 'cli.cjs'), ['plan'], { XDG_CACHE_HOME: join(dir, 'cache') });
    expect(r).toMatchObject({ stdout: 'say/hello\n', code: 3 });
    expect(r.stderr).toBe(
      `kanka-infra: code cache not used: ${cacheDir} has mode 0777; others could plant code in it (chmod 700 ${cacheDir})\n`,
    );
    expect(readdirSync(cacheDir)).toEqual([]);
    // A new directory is made 0700.
    launch(join(dir, 'cli.cjs'), ['plan'], { XDG_CACHE_HOME: join(dir, 'fresh') });
    expect(statSync(join(dir, 'fresh', 'kanka-infra')).mode & 0o777).toBe(0o700);
  });

  it('a mistyped command word leaves no cache file', () => {
    const dir = tempTree({ 'cli.cjs': bundleSource('hello') });
    launch(join(dir, 'cli.cjs'), ['paln', 'prod'], { XDG_CACHE_HOME: join(dir, 'cache') });
    launch(join(dir, 'cli.cjs'), ['--help'], { XDG_CACHE_HOME: join(dir, 'cache') });
    expect(cacheFiles(join(dir, 'cache'))).toEqual([]);
  });
});
