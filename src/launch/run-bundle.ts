import { createHash } from 'node:crypto';
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  unlinkSync,
  type Stats,
} from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { Script } from 'node:vm';
import { TMP_MARK, writeAtomic } from '../local/write-atomic.js';

/** The CLI's command words: only these get a cache (a mistyped word must not leave a file). */
const COMMANDS = new Set([
  'validate',
  'plan',
  'apply',
  'add-host',
  'remove-host',
  'drift',
  'inventory',
  'schema',
  'vault',
  'run',
  'completion',
  // Called on each Tab by the completion script: a fast start matters most there.
  '__complete',
]);
const MAGIC = 'kanka-infra-v8cache 1';

/**
 * Runs the bundled CLI (dist/kanka-infra.cjs) with a V8 code cache: the functions a command compiled
 * the last time are not parsed and compiled again, which is most of a short command's start-up.
 * Node 20 has no compile cache of its own (NODE_COMPILE_CACHE came in Node 22).
 *
 * One cache file per bundle content, Node version and command, in $XDG_CACHE_HOME/kanka-infra (or
 * ~/.cache/kanka-infra), written at exit when missing or refused, atomically; files of other
 * bundles are removed then. KANKA_INFRA_CODE_CACHE=off turns it off. Any problem with the cache only
 * costs the speed-up: the CLI runs the same without it.
 *
 * A code cache is code: V8 runs what it holds, checking only the source's length. So the cache is
 * used only in a directory that is this user's own and 0700 (refused otherwise, with one line why),
 * only files that are regular, this user's, opened without following links, and whose header holds
 * the SHA-256 of this very bundle and of the cache data; files are created exclusively, never
 * through a link. Only the CLI's real commands get one.
 */
export function runBundle(bundleFile: string, argv: readonly string[], env: NodeJS.ProcessEnv = process.env): void {
  const source = readFileSync(bundleFile, 'utf8');
  let cache = env['KANKA_INFRA_CODE_CACHE'] === 'off' ? undefined : cacheFileFor(source, argv, env);
  if (cache) {
    const refused = dirProblem(cache.dir);
    if (refused) {
      process.stderr.write(`kanka-infra: code cache not used: ${refused}\n`);
      cache = undefined;
    }
  }
  const cachedData = cache ? readCache(cache) : undefined;
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: bundleFile,
    ...(cachedData ? { cachedData } : {}),
  });
  if (cache && (!cachedData || script.cachedDataRejected === true)) {
    // At exit, so the cache holds what this command compiled, not only the top level.
    process.once('exit', () => writeCache(cache, script));
  }
  const module = { exports: {} };
  const run = script.runInThisContext() as (
    exports: object,
    require: NodeJS.Require,
    module: object,
    filename: string,
    dirname: string,
  ) => void;
  run(module.exports, createRequire(bundleFile), module, bundleFile, dirname(bundleFile));
}

interface CacheFile {
  dir: string;
  file: string;
  /** Names starting with it belong to this bundle and Node version. */
  prefix: string;
  /** SHA-256 of the bundle, checked in each cache file's header before it is used. */
  sourceHash: string;
}

function cacheFileFor(source: string, argv: readonly string[], env: NodeJS.ProcessEnv): CacheFile | undefined {
  // The XDG spec ignores a relative XDG_CACHE_HOME; so do we (it would write under the current directory).
  const xdg = env['XDG_CACHE_HOME'];
  const home = env['HOME'] || safeHomedir();
  const base = xdg && isAbsolute(xdg) ? xdg : home ? join(home, '.cache') : undefined;
  if (!base) return undefined;
  const dir = join(base, 'kanka-infra');
  const command = argv[0];
  if (command === undefined || !COMMANDS.has(command)) return undefined;
  // V8 checks a cache against the source's length only: the key is the content.
  const sourceHash = sha256(source);
  const prefix = `${sourceHash.slice(0, 16)}-node${process.version}-${process.arch}`;
  return { dir, file: join(dir, `${prefix}-${command}.v8cache`), prefix, sourceHash };
}

function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Why the directory must not hold code this process runs; undefined when it may (or does not exist yet). */
function dirProblem(dir: string): string | undefined {
  let st: Stats;
  try {
    st = lstatSync(dir);
  } catch {
    return undefined;
  }
  if (st.isSymbolicLink()) return `${dir} is a symbolic link; it must be a directory of your own with mode 0700`;
  if (!st.isDirectory()) return `${dir} is not a directory`;
  return ownershipProblem(dir, st, 'directory');
}

function ownershipProblem(path: string, st: Stats, what: string): string | undefined {
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid)
    return `the ${what} ${path} belongs to uid ${st.uid}, not to you (uid ${uid})`;
  if (what === 'directory' && (st.mode & 0o077) !== 0)
    return `${path} has mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}; others could plant code in it (chmod 700 ${path})`;
  if (what === 'file' && (st.mode & 0o022) !== 0) return `${path} is writable by others`;
  return undefined;
}

/**
 * The cache data, if the file is a regular file of ours (never through a link) whose header
 * names this bundle and whose data matches its hash; otherwise none (and it is rewritten).
 */
function readCache(cache: CacheFile): Buffer | undefined {
  let fd: number;
  try {
    // No-follow (a planted link is not read through) and non-blocking (a planted FIFO does not hang us).
    fd = openSync(cache.file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || ownershipProblem(cache.file, st, 'file')) return undefined;
    const content = readFileSync(fd);
    const eol = content.indexOf(0x0a);
    if (eol < 0) return undefined;
    const data = content.subarray(eol + 1);
    if (content.subarray(0, eol).toString('latin1') !== `${MAGIC} ${cache.sourceHash} ${sha256(data)}`)
      return undefined;
    return data;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

function writeCache(cache: CacheFile, script: Script): void {
  try {
    mkdirSync(cache.dir, { recursive: true, mode: 0o700 });
    // Made now or long ago: the same rules as for reading it.
    if (dirProblem(cache.dir)) return;
    for (const f of readdirSync(cache.dir)) {
      const path = join(cache.dir, f);
      // Other builds' caches, and temporary files a killed run left (a minute old: not being written).
      // lstat and unlink: a planted link is removed, never followed.
      if (
        (f.endsWith('.v8cache') && !f.startsWith(cache.prefix)) ||
        (f.includes(TMP_MARK) && Date.now() - lstatSync(path).mtimeMs > 60_000)
      )
        unlinkSync(path);
    }
    const data = script.createCachedData();
    const header = Buffer.from(`${MAGIC} ${cache.sourceHash} ${sha256(data)}\n`, 'latin1');
    // A link planted at the cache's name is replaced, never written through.
    writeAtomic(cache.file, Buffer.concat([header, data]), { forceMode: 0o600, replaceLink: true });
  } catch {
    // A read-only or full home, or another run cleaning up at the same time: no cache, same result.
  }
}

function safeHomedir(): string | undefined {
  try {
    return homedir() || undefined;
  } catch {
    return undefined;
  }
}
