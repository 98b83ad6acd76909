import { describe, expect, it } from 'vitest';
import {
  ensureHostPackages,
  HOST_PACKAGES,
  missingPackages,
  type HostPackage,
  type SetupIo,
} from '../../fleet/host-packages.js';

const WANTED: HostPackage[] = [
  { name: 'debootstrap', why: 'the base image' },
  { name: 'pebble', why: 'the test CA' },
];

function fakeIo(over: Partial<SetupIo> = {}, exitCodes: number[] = []): SetupIo & { ran: string[]; logged: string[] } {
  const ran: string[] = [];
  const logged: string[] = [];
  return {
    isRoot: true,
    hasApt: true,
    log: (l) => logged.push(l),
    run: (cmd, args) => {
      ran.push([cmd, ...args].join(' '));
      return exitCodes.shift() ?? 0;
    },
    ...over,
    ran,
    logged,
  };
}

describe('the Debian packages the tests need', () => {
  it('every package says why it is needed, once', () => {
    expect(HOST_PACKAGES.every((p) => p.why.length > 10)).toBe(true);
    expect(new Set(HOST_PACKAGES.map((p) => p.name)).size).toBe(HOST_PACKAGES.length);
  });

  it('dpkg tells which are missing (a package every Debian has is not; an unknown one is)', () => {
    const missing = missingPackages([
      { name: 'dpkg', why: 'always there' },
      { name: 'kanka-no-such-package', why: 'never there' },
    ]);
    expect(missing.map((p) => p.name)).toEqual(['kanka-no-such-package']);
  });

  it('nothing missing: nothing is run', () => {
    const io = fakeIo();
    expect(ensureHostPackages(io, WANTED, [])).toEqual({ kind: 'present' });
    expect(io.ran).toEqual([]);
  });

  it('as root with apt: says what and why, then one apt-get update and one apt-get install', () => {
    const io = fakeIo();
    expect(ensureHostPackages(io, WANTED, WANTED)).toEqual({ kind: 'installed', packages: ['debootstrap', 'pebble'] });
    expect(io.logged.join('\n')).toMatch(/debootstrap +the base image\n.*pebble +the test CA/);
    expect(io.ran).toEqual(['apt-get update -qq', 'apt-get install -y -qq --no-install-recommends debootstrap pebble']);
  });

  it('not root, or no apt: refused with the command to run, nothing attempted', () => {
    const notRoot = fakeIo({ isRoot: false });
    expect(ensureHostPackages(notRoot, WANTED, WANTED)).toEqual({
      kind: 'refused',
      reason:
        'the tests need Debian packages; as root, run: apt-get install -y --no-install-recommends debootstrap pebble',
    });
    expect(notRoot.ran).toEqual([]);
    const noApt = fakeIo({ hasApt: false });
    expect(ensureHostPackages(noApt, WANTED, WANTED).kind).toBe('refused');
    expect(noApt.ran).toEqual([]);
  });

  it('a failing apt-get is a refusal, not a silent success', () => {
    const io = fakeIo({}, [0, 100]);
    const outcome = ensureHostPackages(io, WANTED, WANTED);
    expect(outcome.kind).toBe('refused');
    expect(outcome.kind === 'refused' && outcome.reason).toMatch(/apt-get install failed/);
  });
});
