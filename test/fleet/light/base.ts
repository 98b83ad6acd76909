/** The light base: a cached copy of the main base with the base role's packages, under every light host. */
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { lastLines, run, runOk, seconds } from '../exec.js';
import type { RunResult } from '../exec.js';
import { pathInRoot, removeTree, writeFileAtomic, writeInRoot } from '../fsutil.js';
import { unmountAllUnder } from '../mounts.js';
import { CACHE_DIR } from '../paths.js';
import { processesUsing } from '../proc.js';
import type { Log } from '../types.js';
import { MIRROR_URL } from './layout.js';

/** The packages of kanka-infra's `base` role (roles/base/defaults.yml base_packages). */
export const LIGHT_PACKAGES: readonly string[] = [
  'nftables',
  'chrony',
  'sudo',
  'curl',
  'ca-certificates',
  'rsync',
  'cron',
  'logrotate',
];

/** Recipe of the light base: data, part of the cache key. */
const LIGHT_RECIPE = {
  v: 1,
  sourcesList: `deb [trusted=yes] ${MIRROR_URL} ./\n`,
  // No package may start a daemon (inside the build, and later on a light host: nothing would stop it).
  policyRcD: '#!/bin/sh\n# kanka-infra light hosts: no init system; never start services from packages.\nexit 101\n',
  install: ['apt-get', '-q', 'install', '-y', '--no-install-recommends', ...LIGHT_PACKAGES],
  dirs: ['/run/sshd'],
};

export function lightBaseDir(mainBase: string): string {
  const hash = createHash('sha256')
    .update(JSON.stringify({ recipe: LIGHT_RECIPE, mainBase }))
    .digest('hex')
    .slice(0, 16);
  return join(CACHE_DIR, `light-${hash}`);
}

function buildScript(): string {
  return [
    'set -eu',
    'export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 PATH=/usr/sbin:/usr/bin:/sbin:/bin',
    'apt-get -q update',
    LIGHT_RECIPE.install.join(' '),
    'apt-get clean',
    '',
  ].join('\n');
}

/** The cached light base, built first if needed: a copy of the main base + the base role's packages. */
export async function ensureLightBase(
  mainBase: string,
  log: Log,
): Promise<{ dir: string; built: boolean; ms: number }> {
  const started = Date.now();
  const dir = lightBaseDir(mainBase);
  if (existsSync(dir)) {
    log(`light base: cached ${dir}`);
    return { dir, built: false, ms: Date.now() - started };
  }
  mkdirSync(CACHE_DIR, { recursive: true });
  const tmp = `${dir}.tmp`;
  if (existsSync(tmp)) {
    const busy = processesUsing(tmp);
    if (busy.length > 0)
      throw new Error(
        `a light base build is still running in ${tmp} (pids ${busy.join(', ')}); wait for it or kill it`,
      );
    const m = await unmountAllUnder(tmp);
    log(`light base: removing an unfinished build ${tmp}${m.length ? ` (${m.length} leftover mounts)` : ''}`);
    await removeTree(tmp);
  }
  const logFile = `${dir}.log`;
  log(`light base: building ${dir} from ${mainBase} (log: ${logFile})`);
  await runOk('cp', ['-a', '--reflink=auto', mainBase, tmp]);
  const copied = Date.now();
  writeInRoot(tmp, '/etc/apt/sources.list', LIGHT_RECIPE.sourcesList);
  writeInRoot(tmp, '/usr/sbin/policy-rc.d', LIGHT_RECIPE.policyRcD, 0o755);
  for (const d of LIGHT_RECIPE.dirs) mkdirSync(pathInRoot(tmp, d), { recursive: true, mode: 0o755 });
  const out = createWriteStream(logFile);
  let result: RunResult | undefined;
  try {
    await runOk('mount', ['--bind', '/dev', join(tmp, 'dev')]);
    await runOk('mount', ['--make-rslave', join(tmp, 'dev')]);
    await runOk('mount', ['-t', 'proc', 'proc', join(tmp, 'proc')]);
    const script = buildScript();
    out.write(`$ chroot ${tmp} /bin/sh -s <<'EOF'\n${script}EOF\n`);
    result = await run('chroot', [tmp, '/bin/sh', '-s'], {
      input: script,
      timeoutMs: 15 * 60_000,
      onLine: (l) => out.write(`${l}\n`),
    });
  } finally {
    await new Promise<void>((r) => out.end(r));
    await unmountAllUnder(tmp);
  }
  if (result === undefined || result.code !== 0) {
    throw new Error(
      `light base build failed (exit ${result?.code ?? '?'}): ${lastLines(result ? result.stderr || result.stdout : '', 3)}; see ${logFile} (is the mirror ${MIRROR_URL} up?)`,
    );
  }
  writeFileAtomic(join(tmp, 'etc', 'kanka-light-base'), `${dir}\nfrom ${mainBase}\n`);
  renameSync(tmp, dir);
  log(
    `light base: built in ${seconds(started)} (copy ${((copied - started) / 1000).toFixed(1)} s, apt ${seconds(copied)})`,
  );
  return { dir, built: true, ms: Date.now() - started };
}
