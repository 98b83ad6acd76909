/**
 * The local apt mirror: every package of packages.txt (with dependencies and Recommends) plus the base's
 * own packages, downloaded once in a throwaway overlay of the base, made a flat repository
 * (dpkg-scanpackages), cached under /var/cache/kanka-infra/mirror-<hash>, served over HTTP on the bridge.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { get } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { Base } from './base.js';
import { DEBIAN_MIRROR } from './base.js';
import { lastLines, run, seconds, sleep } from './exec.js';
import { removeTree } from './fsutil.js';
import { mountOverlay, unmountAllUnder } from './mounts.js';
import { CACHE_DIR, FLEET_SRC_DIR, MIRROR_PORT, REPO_ROOT } from './paths.js';
import { pidAlive, processesUsing, processStartTime, readCmdline, terminate } from './proc.js';
import type { FleetState } from './state.js';
import { saveState } from './state.js';
import type { Log } from './types.js';

export const PACKAGES_FILE = join(FLEET_SRC_DIR, 'packages.txt');
const SERVER_FILE = join(FLEET_SRC_DIR, 'mirror-server.ts');
const MIRROR_RECIPE_VERSION = 1;

/** Where the mirror build downloads from (bookworm with its point-release and security updates). */
const UPSTREAM_SOURCES = [
  `deb ${DEBIAN_MIRROR} bookworm main`,
  `deb ${DEBIAN_MIRROR} bookworm-updates main`,
  `deb ${DEBIAN_MIRROR}-security bookworm-security main`,
];

export function readPackageList(file = PACKAGES_FILE): string[] {
  const names = readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter((l) => l !== '');
  for (const n of names) {
    if (!/^[a-z0-9][a-z0-9+.-]+$/.test(n)) throw new Error(`${file}: "${n}" is not a Debian package name`);
  }
  return [...new Set(names)].sort();
}

export function mirrorHash(base: Base, packages: readonly string[]): string {
  const recipe = JSON.stringify({ v: MIRROR_RECIPE_VERSION, base: base.hash, sources: UPSTREAM_SOURCES, packages });
  return createHash('sha256').update(recipe).digest('hex').slice(0, 16);
}

export interface Mirror {
  dir: string;
  hash: string;
}

function downloadScript(packages: readonly string[]): string {
  return [
    'set -eu',
    `printf '%s\\n' ${UPSTREAM_SOURCES.map((s) => `'${s}'`).join(' ')} > /etc/apt/sources.list`,
    'apt-get update',
    // Everything the roles install, with Recommends (a role may install with or without them).
    `apt-get install --download-only -y ${packages.join(' ')}`,
    // And the base's own packages, so reinstalls and upgrades of them resolve on the hosts too.
    'mkdir -p /tmp/dl && chmod 1777 /tmp/dl && cd /tmp/dl',
    "apt-get download $(dpkg-query -W -f='${binary:Package}\\n')",
    'cp -n /var/cache/apt/archives/*.deb /tmp/dl/',
    'cp /tmp/dl/*.deb /mirror-out/',
  ].join('\n');
}

function writeRelease(dir: string): void {
  const files = ['Packages', 'Packages.gz'];
  const sums = (algo: 'md5' | 'sha256'): string =>
    files
      .map((f) => {
        const data = readFileSync(join(dir, f));
        return ` ${createHash(algo).update(data).digest('hex')} ${data.length} ${f}`;
      })
      .join('\n');
  const release = [
    'Origin: kanka-infra local fleet',
    'Label: kanka-infra local fleet',
    `Date: ${new Date().toUTCString()}`,
    'MD5Sum:',
    sums('md5'),
    'SHA256:',
    sums('sha256'),
    '',
  ].join('\n');
  writeFileSync(join(dir, 'Release'), release);
}

/** The cached mirror for this base and package list, built first if needed (a few minutes). */
export async function ensureMirror(base: Base, log: Log): Promise<Mirror> {
  const packages = readPackageList();
  const hash = mirrorHash(base, packages);
  const dir = join(CACHE_DIR, `mirror-${hash}`);
  if (existsSync(dir)) {
    log(`mirror: cached ${dir}`);
    return { dir, hash };
  }
  const tmp = `${dir}.tmp`;
  if (existsSync(tmp)) {
    const busy = processesUsing(tmp);
    if (busy.length > 0) {
      throw new Error(
        `an earlier mirror build is still running in ${tmp} (pids ${busy.join(', ')}); wait for it or kill it, then retry`,
      );
    }
    const mounts = await unmountAllUnder(tmp);
    log(
      `mirror: removing an unfinished build ${tmp}${mounts.length ? ` (unmounted ${mounts.length} leftover mounts)` : ''}`,
    );
    await removeTree(tmp);
  }
  const logFile = `${dir}.log`;
  log(`mirror: downloading ${packages.length} packages with dependencies into ${dir} (log: ${logFile})`);
  const started = Date.now();
  const [upper, work, root, out] = ['upper', 'work', 'root', 'out'].map((d) => join(tmp, d)) as [
    string,
    string,
    string,
    string,
  ];
  for (const d of [upper, work, root, out]) mkdirSync(d, { recursive: true });
  const logStream = createWriteStream(logFile);
  try {
    // A throwaway overlay of the base: the cached base itself stays untouched.
    await mountOverlay(base.dir, upper, work, root);
    const args = [
      '-q',
      '--register=no',
      '--keep-unit',
      '--link-journal=no',
      '--resolv-conf=copy-host',
      '--console=pipe',
      `--bind=${out}:/mirror-out`,
      '-D',
      root,
      '/bin/sh',
      '-c',
      downloadScript(packages),
    ];
    const result = await run('systemd-nspawn', args, {
      timeoutMs: 30 * 60_000,
      onLine: (l) => logStream.write(`${l}\n`),
    });
    if (result.code !== 0) {
      throw new Error(
        `downloading the mirror packages failed (exit ${result.code}): ${lastLines(result.stderr || result.stdout, 3)}; see ${logFile}`,
      );
    }
    const scan = await run('dpkg-scanpackages', ['--multiversion', '.', '/dev/null'], {
      cwd: out,
      timeoutMs: 10 * 60_000,
    });
    if (scan.code !== 0) throw new Error(`dpkg-scanpackages failed: ${lastLines(scan.stderr, 3)}`);
    writeFileSync(join(out, 'Packages'), scan.stdout);
    writeFileSync(join(out, 'Packages.gz'), gzipSync(scan.stdout, { level: 9 }));
    writeRelease(out);
  } finally {
    await new Promise<void>((r) => logStream.end(r));
    await unmountAllUnder(tmp);
  }
  const debs = readdirSync(out).filter((f) => f.endsWith('.deb'));
  const bytes = debs.reduce((sum, f) => sum + statSync(join(out, f)).size, 0);
  renameSync(out, dir);
  await removeTree(tmp);
  log(`mirror: built in ${seconds(started)} (${debs.length} packages, ${(bytes / 1048576).toFixed(0)} MiB)`);
  return { dir, hash };
}

// --- the HTTP server ----------------------------------------------------------------------------

export function mirrorUrl(address: string, port = MIRROR_PORT): string {
  return `http://${address}:${port}/`;
}

/** The recorded pid is still that mirror server (started from this checkout or another one of the repo). */
function isMirrorServer(pid: number, start: string): boolean {
  if (!pidAlive(pid) || processStartTime(pid) !== start) return false;
  return (readCmdline(pid) ?? []).some((a) => a.endsWith('/test/fleet/mirror-server.ts'));
}

/** GET /Release: 200 from a mirror server, another status from something else, undefined if no answer. */
function probe(address: string, port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = get({ host: address, port, path: '/Release', timeout: 1500 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

export async function stopMirrorServer(state: FleetState, log: Log): Promise<void> {
  const m = state.mirror;
  if (!m) return;
  const outcome = await terminate(m.pid, () => isMirrorServer(m.pid, m.pidStart), 3000);
  if (outcome !== 'gone') log(`mirror: server (pid ${m.pid}) ${outcome}`);
  delete state.mirror;
  saveState(state);
}

/** Serve `dir` on address:port: keep a running server of ours that serves it, else (re)start one. */
export async function ensureMirrorServer(
  state: FleetState,
  dir: string,
  address: string,
  logFile: string,
  log: Log,
): Promise<void> {
  const port = MIRROR_PORT;
  const m = state.mirror;
  if (m && isMirrorServer(m.pid, m.pidStart)) {
    if (m.dir === dir && m.address === address && m.port === port && (await probe(address, port)) === 200) return;
    await stopMirrorServer(state, log);
  } else if (m) {
    delete state.mirror;
    saveState(state);
  }
  if ((await probe(address, port)) !== undefined) {
    throw new Error(`something else already answers on ${address}:${port}; stop it and retry`);
  }
  const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(
      process.execPath,
      ['--import', tsxLoader, SERVER_FILE, '--dir', dir, '--bind', address, '--port', String(port)],
      { cwd: REPO_ROOT, detached: true, stdio: ['ignore', fd, fd] },
    );
    child.unref();
    const pid = child.pid;
    if (pid === undefined) throw new Error('could not start the mirror server');
    await sleep(50);
    state.mirror = { pid, pidStart: processStartTime(pid) ?? '', dir, address, port };
    saveState(state);
  } finally {
    closeSync(fd);
  }
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if ((await probe(address, port)) === 200) {
      log(`mirror: serving ${mirrorUrl(address, port)} (pid ${state.mirror.pid})`);
      return;
    }
    if (!pidAlive(state.mirror.pid)) break;
    await sleep(200);
  }
  const tail = existsSync(logFile) ? lastLines(readFileSync(logFile, 'utf8'), 3) : '';
  throw new Error(
    `the mirror server did not answer on ${mirrorUrl(address, port)}${tail ? `: ${tail}` : ''} (log: ${logFile})`,
  );
}
