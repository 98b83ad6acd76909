import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { APPLY_LOG, LOCK_DIR } from '../../../src/engine/lock.js';
import type { FakeHost } from '../../support/fake-host/index.js';
import type { ConnectionTarget } from '../../../src/transport/transport.js';
import { cli } from '../../support/cli.js';
import { fakeFleet } from '../../support/fake-fleet.js';
import { projectDir } from '../../support/project.js';

const text = (h: FakeHost | undefined, path: string) => {
  const f = h?.files.get(path);
  return f?.type === 'file' ? f.content.toString() : undefined;
};

describe('the run lock and the apply log', () => {
  it('apply locks the hosts it changes, releases them, and appends a record to each', async () => {
    const cwd = projectDir();
    const f = fakeFleet();
    const r = await cli(['apply', 'test', '--yes'], { cwd, connect: f.connect });
    expect(r.code).toBe(0);
    for (const name of ['web1', 'db1']) {
      const h = f.hosts.get(name);
      expect(h?.files.has(LOCK_DIR)).toBe(false);
      const lines = (text(h, APPLY_LOG) ?? '').trim().split('\n');
      expect(lines).toHaveLength(1);
      const rec = JSON.parse(lines[0] ?? '{}') as {
        who: string;
        command: string;
        status: string;
        changes: string[];
        tasks: string[];
        commit: string;
      };
      expect(rec.command).toBe('kanka-infra apply test --yes');
      expect(rec.status).toBe('changed');
      expect(rec.changes).toEqual(['create /etc/motd', 'create /srv/app']);
      expect(rec.tasks).toEqual(['base/motd', 'base/app dir']);
      expect(rec.who).toMatch(/@/);
    }
    // Nothing to change: no lock, no record.
    expect((await cli(['apply', 'test', '--yes'], { cwd, connect: f.connect })).code).toBe(0);
    expect((text(f.hosts.get('web1'), APPLY_LOG) ?? '').trim().split('\n')).toHaveLength(1);
  });

  it('a second run is refused naming the holder, and changes nothing anywhere', async () => {
    const cwd = projectDir();
    const f = fakeFleet();
    await f.connect({ host: 'db1' } as ConnectionTarget);
    f.hosts.get('db1')?.put(`${LOCK_DIR}/owner`, {
      content: 'alice@ops-laptop pid 4242 since 2026-11-26T03:00:00Z: kanka-infra apply prod [abc]\n',
    });
    const r = await cli(['apply', 'test', '--yes'], { cwd, connect: f.connect });
    expect(r.code).toBe(3);
    expect(r.stdout).toContain(
      'db1: locked by another run: alice@ops-laptop pid 4242 since 2026-11-26T03:00:00Z: kanka-infra apply prod [abc]',
    );
    expect(r.stdout).toContain('If that run is over (its machine crashed), run again with --break-lock.');
    expect(f.hosts.get('web1')?.files.has('/etc/motd')).toBe(false);
    expect(f.hosts.get('web1')?.files.has(LOCK_DIR)).toBe(false);
    // The holder's lock is untouched.
    expect(text(f.hosts.get('db1'), `${LOCK_DIR}/owner`)).toContain('alice@ops-laptop');
  });

  it('--break-lock takes a lock whose holder on this machine is gone, but not one still running', async () => {
    const cwd = projectDir();
    const f = fakeFleet();
    await f.connect({ host: 'web1' } as ConnectionTarget);
    const alive = `root@${hostname()} pid ${process.pid} since now: kanka-infra apply test [live]\n`;
    f.hosts.get('web1')?.put(`${LOCK_DIR}/owner`, { content: alive });
    const refused = await cli(['apply', 'test', '--yes', '--break-lock'], { cwd, connect: f.connect });
    expect(refused.code).toBe(3);
    expect(refused.stdout).toContain('That run is still going: wait for it.');
    f.hosts.get('web1')?.put(`${LOCK_DIR}/owner`, {
      content: `root@${hostname()} pid 999999 since then: kanka-infra apply test [dead]\n`,
    });
    const plain = await cli(['apply', 'test', '--yes'], { cwd, connect: f.connect });
    expect(plain.stdout).toContain('That process is gone: run again with --break-lock to take the lock.');
    const broken = await cli(['apply', 'test', '--yes', '--break-lock'], { cwd, connect: f.connect });
    expect(broken.code).toBe(0);
    expect(f.hosts.get('web1')?.files.has(LOCK_DIR)).toBe(false);
  });
});
