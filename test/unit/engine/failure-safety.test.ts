import { afterEach, describe, expect, it, vi } from 'vitest';
import { Interruption } from '../../../src/cli/interrupt.js';
import { LOCK_DIR } from '../../../src/engine/lock.js';
import type { FakeHost } from '../../support/fake-host/index.js';
import type { ConnectionTarget } from '../../../src/transport/transport.js';
import { cli } from '../../support/cli.js';
import { fakeFleet } from '../../support/fake-fleet.js';
import { projectDir } from '../../support/project.js';

/** Three hosts, each with two changes; every connection opened is remembered, to check it was closed. */
const threeHosts = () =>
  projectDir({
    'inventory/test.yml': [
      'ssh: { user: root, key_file: id_test }',
      'vars: { greeting: hello }',
      'groups: { web: {} }',
      'hosts:',
      ...['web1', 'web2', 'web3'].flatMap((h, i) => [`  ${h}:`, `    address: 10.9.9.${i + 1}`, '    groups: [web]']),
      '',
    ].join('\n'),
  });

function trackedFleet() {
  const f = fakeFleet();
  const opened: FakeHost[] = [];
  const connect = async (t: ConnectionTarget) => {
    const h = await f.connect(t);
    h.closed = false;
    opened.push(h);
    return h;
  };
  return { ...f, connect, opened };
}

const converged = (h: FakeHost | undefined) => h?.files.has('/etc/motd') === true && h.files.has('/srv/app');

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('a failure leaves nothing behind', { timeout: 30_000 }, () => {
  it('an internal error while applying one host: reported against it, the others converge, no lock, every connection closed, exit 3', async () => {
    const cwd = threeHosts();
    const f = trackedFleet();
    vi.stubEnv('KANKA_TEST_FAIL_HOST', 'web2');
    const r = await cli(['apply', 'test', '--yes'], { cwd, connect: f.connect });
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('web2: internal error (a bug in kanka-infra');
    expect(r.stdout).toContain('injected by KANKA_TEST_FAIL_HOST=web2');
    expect(converged(f.hosts.get('web1'))).toBe(true);
    expect(converged(f.hosts.get('web3'))).toBe(true);
    expect(converged(f.hosts.get('web2'))).toBe(false);
    for (const h of f.hosts.values()) expect(h.files.has(LOCK_DIR)).toBe(false);
    expect(f.opened).toHaveLength(3);
    expect(f.opened.every((h) => h.closed)).toBe(true);
    // The apply log on the failed host says so.
    const log = f.hosts.get('web2')?.files.get('/var/lib/kanka-infra/apply.log');
    expect(log?.type === 'file' ? log.content.toString() : '').toContain('"status":"failed"');
  });

  it('an internal error while planning one host: the others are still applied, exit 3, connections closed', async () => {
    const cwd = threeHosts();
    const f = trackedFleet();
    vi.stubEnv('KANKA_TEST_FAIL_HOST', 'web1:plan');
    const r = await cli(['apply', 'test', '--yes'], { cwd, connect: f.connect });
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('web1: internal error');
    expect(converged(f.hosts.get('web2'))).toBe(true);
    expect(converged(f.hosts.get('web3'))).toBe(true);
    expect(f.hosts.get('web1')?.applied).toEqual([]);
    for (const h of f.hosts.values()) expect(h.files.has(LOCK_DIR)).toBe(false);
    expect(f.opened.every((h) => h.closed)).toBe(true);
    // plan: the same, and nothing is changed anywhere.
    const p = await cli(['plan', 'test'], { cwd: threeHosts(), connect: trackedFleet().connect });
    expect(p.code).toBe(3);
    expect(p.stdout).toContain('web1: internal error');
  });

  it('a lock that cannot be released is reported with how to clear it (exit 3), not swallowed', async () => {
    const cwd = threeHosts();
    const f = trackedFleet();
    const connect = async (t: ConnectionTarget) => {
      const h = await f.connect(t);
      if (t.host === 'web3') {
        const apply = h.apply.bind(h);
        h.apply = async (ops) => {
          if (ops.some((o) => o.op === 'unlock')) throw new Error('connection reset');
          return apply(ops);
        };
      }
      return h;
    };
    const r = await cli(['apply', 'test', '--yes'], { cwd, connect });
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('web3: its lock could not be released (connection reset)');
    expect(r.stdout).toContain(
      `run again with --break-lock, or remove it on the host: ssh root@10.9.9.3 sudo rm -rf ${LOCK_DIR}`,
    );
    expect(converged(f.hosts.get('web3'))).toBe(true);
    expect(f.hosts.get('web1')?.files.has(LOCK_DIR)).toBe(false);
    expect(f.opened.every((h) => h.closed)).toBe(true);
  });

  it('Ctrl-C during apply: the change in flight finishes, no other starts, locks released, recap, exit 130', async () => {
    const cwd = threeHosts();
    const f = trackedFleet();
    const interrupt = new Interruption();
    let requested = false;
    const connect = async (t: ConnectionTarget) => {
      const h = await f.connect(t);
      const apply = h.apply.bind(h);
      h.apply = async (ops) => {
        await apply(ops);
        // Ctrl-C arrives while web1's first change is being made.
        if (t.host === 'web1' && ops.some((o) => o.op === 'write') && !requested) requested = interrupt.request();
      };
      return h;
    };
    const r = await cli(['apply', 'test', '--yes', '--forks', '1'], { cwd, connect, interrupt });
    expect(requested).toBe(true);
    expect(r.code).toBe(130);
    // web1's change in flight (motd) was made, its next one (the directory) was not.
    expect(f.hosts.get('web1')?.files.has('/etc/motd')).toBe(true);
    expect(f.hosts.get('web1')?.files.has('/srv/app')).toBe(false);
    // With one fork, the other hosts had not started: nothing was changed on them.
    for (const name of ['web2', 'web3']) expect(f.hosts.get(name)?.files.has('/etc/motd')).toBe(false);
    for (const h of f.hosts.values()) expect(h.files.has(LOCK_DIR)).toBe(false);
    expect(f.opened.every((h) => h.closed)).toBe(true);
    expect(r.stdout).toContain('web1: interrupted (Ctrl-C) before its remaining changes');
    expect(r.stdout).toMatch(
      /web2: interrupted \(Ctrl-C\) before its first change|not started: the run was interrupted/,
    );
    expect(r.stderr).toContain('Interrupted (Ctrl-C)');
    // Run again: it finishes what was left.
    expect((await cli(['apply', 'test', '--yes'], { cwd, connect: f.connect })).code).toBe(0);
    expect([...f.hosts.values()].every(converged)).toBe(true);
  });

  it('Ctrl-C outside a run that holds locks is not held back', () => {
    const interrupt = new Interruption();
    expect(interrupt.request()).toBe(false);
  });
});
