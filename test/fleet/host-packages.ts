/**
 * The Debian packages this machine needs for `npm test` and `npm run demo`, each with why, and the
 * one install step that brings what is missing. `.ci/run`, `npm test` (pretest), the e2e global
 * setup and the demo all go through here, so a newcomer and CI take the same path.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { sbinPath } from './exec.js';

export interface HostPackage {
  name: string;
  why: string;
}

/** The local fleet: systemd-nspawn containers on a bridge, a debootstrap base, a local apt mirror. */
export const FLEET_PACKAGES: readonly HostPackage[] = [
  { name: 'systemd-container', why: 'systemd-nspawn boots the fleet hosts' },
  { name: 'debootstrap', why: 'builds the Debian 12 base image of the fleet' },
  { name: 'iproute2', why: "the fleet's bridge and veth links" },
  { name: 'util-linux', why: 'nsenter and mount for the hosts' },
  { name: 'dpkg-dev', why: "dpkg-scanpackages indexes the fleet's apt mirror" },
  { name: 'openssh-client', why: 'ssh-keygen makes the fleet keys; ssh is the bench floor' },
  { name: 'gnupg', why: 'the apt_source e2e test signs its own repository' },
  { name: 'ca-certificates', why: 'apt and the mirror download over https' },
];

/** What the e2e tests run on this machine beside the fleet. */
export const E2E_TOOL_PACKAGES: readonly HostPackage[] = [
  { name: 'pebble', why: "the test ACME CA the haproxy role's certificates are issued by" },
  { name: 'openssl', why: 'test certificates' },
  { name: 'curl', why: 'requests to the fleet in e2e tests' },
];

/**
 * The real readers the unit tests check the template encoders and the vault against: a value is
 * written by our encoder and read back by the program that will read it on a host.
 */
export const READER_PACKAGES: readonly HostPackage[] = [
  { name: 'python3', why: "thumbor.conf is Python: values are read back with Python's parser" },
  { name: 'php-cli', why: '.env values read back by PHP' },
  { name: 'php-vlucas-phpdotenv', why: "Laravel's own .env parser" },
  { name: 'php-fpm', why: 'php-fpm pool values read back by php-fpm -t' },
  { name: 'mariadb-client', why: 'MariaDB option files read back by my_print_defaults' },
  { name: 'redis-server', why: 'redis.conf values read back by redis-server' },
  { name: 'nginx', why: 'nginx values served back by nginx' },
  { name: 'haproxy', why: 'haproxy.cfg values read back by haproxy -c' },
  { name: 'ansible-core', why: 'vault files checked against real ansible-vault, imports against ansible-inventory' },
];

export const HOST_PACKAGES: readonly HostPackage[] = [...FLEET_PACKAGES, ...E2E_TOOL_PACKAGES, ...READER_PACKAGES];

/** The packages of `wanted` that dpkg does not list as installed. */
export function missingPackages(wanted: readonly HostPackage[] = HOST_PACKAGES): HostPackage[] {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Package} ${db:Status-Status}\\n', ...wanted.map((p) => p.name)], {
    encoding: 'utf8',
  });
  // dpkg-query exits 1 when some package is unknown to it, and still lists the others.
  const installed = new Set(
    (r.stdout ?? '')
      .split('\n')
      .map((l) => l.split(' '))
      .filter(([, status]) => status === 'installed')
      .map(([name]) => name),
  );
  return wanted.filter((p) => !installed.has(p.name));
}

export type SetupOutcome =
  { kind: 'present' } | { kind: 'installed'; packages: string[] } | { kind: 'refused'; reason: string };

export interface SetupIo {
  log: (line: string) => void;
  isRoot: boolean;
  hasApt: boolean;
  /** Runs a command with its output shown; returns its exit code. */
  run: (cmd: string, args: readonly string[]) => number;
}

export function realSetupIo(log: (line: string) => void): SetupIo {
  return {
    log,
    isRoot: process.getuid?.() === 0,
    hasApt: sbinPath()
      .split(':')
      .some((dir) => existsSync(`${dir}/apt-get`)),
    run: (cmd, args) =>
      spawnSync(cmd, args, {
        stdio: ['ignore', 'inherit', 'inherit'],
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive', PATH: sbinPath() },
      }).status ?? 1,
  };
}

/**
 * Installs what is missing with one apt-get, saying what and why first. Not root, or no apt: a
 * refusal that names the command to run, and nothing is attempted.
 */
export function ensureHostPackages(
  io: SetupIo,
  wanted: readonly HostPackage[] = HOST_PACKAGES,
  missing: readonly HostPackage[] = missingPackages(wanted),
): SetupOutcome {
  if (missing.length === 0) return { kind: 'present' };
  const names = missing.map((p) => p.name);
  const command = `apt-get install -y --no-install-recommends ${names.join(' ')}`;
  if (!io.hasApt)
    return { kind: 'refused', reason: `the tests need Debian packages and this machine has no apt-get: ${command}` };
  if (!io.isRoot) return { kind: 'refused', reason: `the tests need Debian packages; as root, run: ${command}` };
  io.log(`Installing ${names.length} Debian package(s) the tests and the local fleet need:`);
  for (const p of missing) io.log(`  ${p.name.padEnd(22)} ${p.why}`);
  if (io.run('apt-get', ['update', '-qq']) !== 0)
    return { kind: 'refused', reason: 'apt-get update failed (see above); nothing was installed' };
  if (io.run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...names]) !== 0)
    return { kind: 'refused', reason: `apt-get install failed (see above): ${command}` };
  return { kind: 'installed', packages: names };
}
