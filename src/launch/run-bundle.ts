import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { Script } from 'node:vm';

/**
 * Runs the bundled CLI (dist/kanka-infra.cjs) with a V8 code cache: the functions a command compiled
 * the last time are not parsed and compiled again (measured: `validate` of the five-host site
 * 0.30 -> 0.23 s). Node 20 has no compile cache of its own (NODE_COMPILE_CACHE came in Node 22).
 *
 * One cache file per bundle content, Node version and command, in $XDG_CACHE_HOME/kanka-infra (or
 * ~/.cache/kanka-infra), written at exit when missing or refused by V8, atomically; files of other
 * bundles are removed then. KANKA_INFRA_CODE_CACHE=off turns it off. Any problem with the cache only
 * costs the speed-up: the CLI runs the same without it.
 */
export function runBundle(bundleFile: string, argv: readonly string[], env: NodeJS.ProcessEnv = process.env): void {
  const source = readFileSync(bundleFile, 'utf8');
  const cache = env['KANKA_INFRA_CODE_CACHE'] === 'off' ? undefined : cacheFileFor(source, argv, env);
  const cachedData = cache ? readIfThere(cache.file) : undefined;
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: bundleFile, ...(cachedData ? { cachedData } : {}) });
  if (cache && (!cachedData || script.cachedDataRejected === true)) {
    // At exit, so the cache holds what this command compiled, not only the top level.
    process.once('exit', () => writeCache(cache, script));
  }
  const module = { exports: {} };
  const run = script.runInThisContext() as (exports: object, require: NodeJS.Require, module: object, filename: string, dirname: string) => void;
  run(module.exports, createRequire(bundleFile), module, bundleFile, dirname(bundleFile));
}

interface CacheFile {
  dir: string;
  file: string;
  /** Names starting with it belong to this bundle and Node version. */
  prefix: string;
}

function cacheFileFor(source: string, argv: readonly string[], env: NodeJS.ProcessEnv): CacheFile | undefined {
  // The XDG spec ignores a relative XDG_CACHE_HOME; so do we (it would write under the current directory).
  const xdg = env['XDG_CACHE_HOME'];
  const home = env['HOME'] || safeHomedir();
  const base = xdg && isAbsolute(xdg) ? xdg : home ? join(home, '.cache') : undefined;
  if (!base) return undefined;
  const dir = join(base, 'kanka-infra');
  // V8 checks a cache against the source's length only: the key is the content.
  const prefix = `${createHash('sha256').update(source).digest('hex').slice(0, 16)}-node${process.version}-${process.arch}`;
  const command = /^[a-z][a-z-]{0,30}$/.test(argv[0] ?? '') ? argv[0] : 'other';
  return { dir, file: join(dir, `${prefix}-${command}.v8cache`), prefix };
}

function writeCache(cache: CacheFile, script: Script): void {
  const tmp = `${cache.file}.${process.pid}.tmp`;
  try {
    mkdirSync(cache.dir, { recursive: true, mode: 0o700 });
    for (const f of readdirSync(cache.dir)) {
      const path = join(cache.dir, f);
      // Other builds' caches, and temporary files a killed run left (a minute old: not being written).
      if ((f.endsWith('.v8cache') && !f.startsWith(cache.prefix)) || (f.endsWith('.tmp') && Date.now() - statSync(path).mtimeMs > 60_000)) unlinkSync(path);
    }
    writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
    renameSync(tmp, cache.file);
  } catch {
    // A read-only or full home, or another run cleaning up at the same time: no cache, same result.
    try {
      rmSync(tmp, { force: true });
    } catch {
      // Nothing was written, then.
    }
  }
}

function readIfThere(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

function safeHomedir(): string | undefined {
  try {
    return homedir() || undefined;
  } catch {
    return undefined;
  }
}
