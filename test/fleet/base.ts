/**
 * The base root filesystem every host's overlay sits on: debootstrap + a few setup steps, built once into
 * a temp dir, renamed into place when complete, cached under /var/cache/kanka-infra/base-<recipe hash>.
 */
import { createHash } from 'node:crypto';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  symlinkSync,
  unlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import { run, seconds, lastLines } from './exec.js';
import { pathInRoot, removeTree, writeFileAtomic, writeInRoot } from './fsutil.js';
import { unmountAllUnder } from './mounts.js';
import { processesUsing } from './proc.js';
import { CACHE_DIR } from './paths.js';
import type { Log } from './types.js';

export const DEBIAN_MIRROR = 'http://deb.debian.org/debian';
const SUITE = 'bookworm';
const INCLUDE = 'systemd,systemd-sysv,dbus,openssh-server,iproute2,procps,curl,ca-certificates';

export function debootstrapArgs(target: string): string[] {
  return ['--variant=minbase', `--include=${INCLUDE}`, SUITE, target, DEBIAN_MIRROR];
}

type BaseStep =
  | { kind: 'write'; path: string; content: string; mode: number }
  | { kind: 'remove-glob'; dir: string; prefix: string }
  | { kind: 'mask'; unit: string }
  | { kind: 'mkdir'; path: string; mode: number };

/** Setup after debootstrap. Data, so that it is part of the cache key. */
const BASE_STEPS: readonly BaseStep[] = [
  {
    kind: 'write',
    path: '/etc/ssh/sshd_config.d/10-kanka-fleet.conf',
    content: [
      '# kanka-infra local fleet: root logs in with a key only; one host key type (ed25519), pinned by the harness.',
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'HostKey /etc/ssh/ssh_host_ed25519_key',
      'UseDNS no',
      '',
    ].join('\n'),
    mode: 0o644,
  },
  // Host keys and machine-id are per host: the harness puts its own keys in, systemd makes a machine-id.
  { kind: 'remove-glob', dir: '/etc/ssh', prefix: 'ssh_host_' },
  { kind: 'write', path: '/etc/machine-id', content: '', mode: 0o444 },
  { kind: 'remove-glob', dir: '/var/lib/dbus', prefix: 'machine-id' },
  // No resolver: the hosts have no route out; the apt mirror is addressed by IP.
  {
    kind: 'write',
    path: '/etc/resolv.conf',
    content: '# kanka-infra local fleet: no DNS (no route out of the fleet subnet)\n',
    mode: 0o644,
  },
  // The package lists from debootstrap name deb.debian.org; a host's apt source is the local mirror.
  { kind: 'remove-glob', dir: '/var/lib/apt/lists', prefix: '' },
  { kind: 'mkdir', path: '/var/lib/apt/lists/partial', mode: 0o700 },
  { kind: 'remove-glob', dir: '/var/cache/apt', prefix: 'pkgcache' },
  { kind: 'remove-glob', dir: '/var/cache/apt', prefix: 'srcpkgcache' },
  // Background apt runs would take the dpkg lock in the middle of a test.
  { kind: 'mask', unit: 'apt-daily.timer' },
  { kind: 'mask', unit: 'apt-daily-upgrade.timer' },
  // No fsync per file in dpkg: installs on 2 cores are several times faster; crash safety is moot here.
  { kind: 'write', path: '/etc/dpkg/dpkg.cfg.d/kanka-fleet-unsafe-io', content: 'force-unsafe-io\n', mode: 0o644 },
  { kind: 'mkdir', path: '/root/.ssh', mode: 0o700 },
  // As the Debian installer leaves it (pam_env complains on every login otherwise).
  { kind: 'write', path: '/etc/default/locale', content: 'LANG=C.UTF-8\n', mode: 0o644 },
];

const RECIPE_VERSION = 1;

export function baseHash(): string {
  const recipe = JSON.stringify({ v: RECIPE_VERSION, debootstrap: debootstrapArgs('BASE'), steps: BASE_STEPS });
  return createHash('sha256').update(recipe).digest('hex').slice(0, 16);
}

export interface Base {
  dir: string;
  hash: string;
}

export function baseDir(hash = baseHash()): string {
  return join(CACHE_DIR, `base-${hash}`);
}

function applyStep(root: string, step: BaseStep): void {
  switch (step.kind) {
    case 'write':
      writeInRoot(root, step.path, step.content, step.mode);
      return;
    case 'mkdir':
      mkdirSync(pathInRoot(root, step.path), { recursive: true, mode: step.mode });
      return;
    case 'remove-glob': {
      const dir = pathInRoot(root, `${step.dir}/x`).slice(0, -2);
      if (!existsSync(dir)) return;
      for (const entry of readdirSync(dir)) {
        if (entry.startsWith(step.prefix)) rmSync(join(dir, entry), { recursive: true, force: true });
      }
      return;
    }
    case 'mask': {
      const link = pathInRoot(root, `/etc/systemd/system/${step.unit}`);
      mkdirSync(join(link, '..'), { recursive: true });
      if (existsSync(link)) unlinkSync(link);
      symlinkSync('/dev/null', link);
      return;
    }
  }
}

/** The cached base, built first if needed (about a minute). */
export async function ensureBase(log: Log): Promise<Base> {
  const hash = baseHash();
  const dir = baseDir(hash);
  if (existsSync(dir)) {
    log(`base: cached ${dir}`);
    return { dir, hash };
  }
  mkdirSync(CACHE_DIR, { recursive: true });
  const tmp = `${dir}.tmp`;
  if (existsSync(tmp)) {
    const busy = processesUsing(tmp);
    if (busy.length > 0) {
      throw new Error(
        `an earlier base build is still running in ${tmp} (pids ${busy.join(', ')}); wait for it or kill it, then retry`,
      );
    }
    // A crashed build: debootstrap may have left /proc or /sys mounted inside it.
    const mounts = await unmountAllUnder(tmp);
    log(
      `base: removing an unfinished build ${tmp}${mounts.length ? ` (unmounted ${mounts.length} leftover mounts)` : ''}`,
    );
    await removeTree(tmp);
  }
  const logFile = `${dir}.log`;
  log(`base: building ${dir} with debootstrap (about a minute; log: ${logFile})`);
  const started = Date.now();
  const out = createWriteStream(logFile);
  const args = debootstrapArgs(tmp);
  out.write(`$ debootstrap ${args.join(' ')}\n`);
  const result = await run('debootstrap', args, { timeoutMs: 20 * 60_000, onLine: (l) => out.write(`${l}\n`) });
  await new Promise<void>((r) => out.end(r));
  // Whatever happened, leave nothing mounted inside the build.
  await unmountAllUnder(tmp);
  if (result.code !== 0) {
    throw new Error(
      `debootstrap failed (exit ${result.code}): ${lastLines(result.stderr || result.stdout, 3)}; see ${logFile}`,
    );
  }
  for (const step of BASE_STEPS) applyStep(tmp, step);
  writeFileAtomic(join(tmp, 'etc', 'kanka-fleet-base'), `${hash}\n`);
  renameSync(tmp, dir);
  log(`base: built in ${seconds(started)}`);
  return { dir, hash };
}
