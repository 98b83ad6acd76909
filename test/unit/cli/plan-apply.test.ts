import { describe, expect, it } from 'vitest';
import { TransportError, type ConnectionTarget } from '../../../src/transport/transport.js';
import { cli } from '../../support/cli.js';
import { fakeFleet } from '../../support/fake-fleet.js';
import { projectDir } from '../../support/project.js';

// An escape sequence's start (ESC [), built so the pattern holds no raw control character.
const ANSI = new RegExp(String.fromCharCode(27) + '\\[');

describe('plan and apply on in-memory hosts', () => {
  it('plan shows changes with diffs and exits 2; apply makes them; plan again exits 0', async () => {
    const cwd = projectDir();
    const fleet = fakeFleet();
    const plan = await cli(['plan', 'test'], { cwd, connect: fleet.connect });
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain('+ create /etc/motd');
    expect(plan.stdout).toContain('+hello web1');
    expect(plan.stdout).toMatch(/Plan: 4 to create, 0 to update, 0 to delete, 0 to run on 2 hosts\./);
    expect(plan.stdout).not.toMatch(ANSI);
    expect(fleet.hosts.get('web1')?.applied).toEqual([]);

    const apply = await cli(['apply', 'test', '--yes'], { cwd, connect: fleet.connect });
    expect(apply.code).toBe(0);
    expect(apply.stdout).toMatch(/Applied: 4 created/);
    expect(fleet.hosts.get('db1')?.files.get('/etc/motd')).toMatchObject({ type: 'file' });

    const again = await cli(['plan', 'test', '--json'], { cwd, connect: fleet.connect });
    expect(again.code).toBe(0);
    const doc = JSON.parse(again.stdout) as {
      summary: { maxRoundTrips: number; changes: Record<string, number> };
      exitCode: number;
    };
    expect(doc.exitCode).toBe(0);
    expect(doc.summary.changes).toEqual({ create: 0, update: 0, delete: 0, run: 0 });
    expect(doc.summary.maxRoundTrips).toBeLessThanOrEqual(3);
  });

  it('a hand edit shows up as a diff', async () => {
    const cwd = projectDir();
    const fleet = fakeFleet();
    await cli(['apply', 'test', '--yes'], { cwd, connect: fleet.connect });
    fleet.hosts.get('db1')?.put('/etc/motd', { content: 'hacked\n' });
    const plan = await cli(['plan', 'test'], { cwd, connect: fleet.connect });
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain('-hacked');
    expect(plan.stdout).toContain('+hi db1');
    expect(plan.stdout).toMatch(/Plan: 0 to create, 1 to update, 0 to delete, 0 to run on 1 host\./);
  });

  it('an unreachable host: exit 3, the others are still planned', async () => {
    const cwd = projectDir();
    const fleet = fakeFleet();
    const connect = async (t: ConnectionTarget) => {
      if (t.host === 'db1')
        throw new TransportError(
          'db1',
          '10.9.9.2:22',
          'unreachable',
          'connection refused (is sshd running and the port right?)',
        );
      return fleet.connect(t);
    };
    const r = await cli(['plan', 'test'], { cwd, connect });
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('db1 (10.9.9.2:22): connection refused');
    expect(r.stdout).toContain('+ create /etc/motd');
    expect(r.stdout).toMatch(/db1\s+ok=0 .* unreachable=1/);
  });

  it('apply refuses without --yes off a terminal, before any connection', async () => {
    const r = await cli(['apply', 'test'], { cwd: projectDir(), connect: fakeFleet().connect });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('apply needs --yes when not run on a terminal');
    expect(r.connected).toEqual([]);
  });

  it('apply on a terminal asks, and anything but "yes" changes nothing', async () => {
    const cwd = projectDir();
    const fleet = fakeFleet();
    const r = await cli(['apply', 'test'], { cwd, connect: fleet.connect, tty: true, stdin: 'no\n' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Apply these changes to 2 host(s) of test?');
    expect(r.stderr).toContain('Cancelled: nothing was changed.');
    expect(fleet.hosts.get('web1')?.applied).toEqual([]);
    const yes = await cli(['apply', 'test'], { cwd, connect: fleet.connect, tty: true, stdin: 'yes\n' });
    expect(yes.code).toBe(0);
    expect(fleet.hosts.get('web1')?.files.has('/etc/motd')).toBe(true);
  });

  it('invalid input: exit 1, file and key named, no stack trace, no connection', async () => {
    const cwd = projectDir({ 'inventory/test.yml': 'hosts:\n  web1:\n    address: 10.0.0.1\n    prot: 22\n' });
    const r = await cli(['plan', 'test'], { cwd, connect: fakeFleet().connect });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/inventory\/test\.yml:4:\d+: hosts\.web1\.prot: unknown key "prot"/);
    expect(r.stderr).toContain('no host was contacted');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.connected).toEqual([]);
  });

  it('an unknown option or bad --forks is a usage error (exit 1)', async () => {
    const cwd = projectDir();
    expect((await cli(['plan', 'test', '--frobnicate'], { cwd })).code).toBe(1);
    const r = await cli(['plan', 'test', '--forks', '0'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--forks must be a whole number of at least 1');
  });

  it('a task that cannot be planned fails its host (exit 3) while others apply', async () => {
    const cwd = projectDir();
    const fleet = fakeFleet((name, h) => {
      if (name === 'db1') h.put('/etc/motd', { type: 'directory' });
    });
    const r = await cli(['apply', 'test', '--yes'], { cwd, connect: fleet.connect });
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('/etc/motd is a directory, not a file');
    expect(fleet.hosts.get('web1')?.files.get('/etc/motd')?.type).toBe('file');
  });

  it('a task that depends on an earlier change is shown as waiting for it, and apply does it', async () => {
    const cwd = projectDir({
      'roles/base/tasks.yml': [
        '- name: migrate the old conf directory',
        '  command: { run: migrate-conf, creates: /srv/conf.migrated }',
        '- name: conf file where the directory was',
        '  copy: { dest: /srv/conf, content: "new\\n" }',
        '',
      ].join('\n'),
    });
    const fleet = fakeFleet((_n, h) => {
      h.put('/srv/conf', { type: 'directory' });
      h.command = (cmd, host) => {
        if (cmd === 'migrate-conf') {
          host.files.delete('/srv/conf');
          host.put('/srv/conf.migrated', { content: '' });
        }
        return 0;
      };
    });
    const plan = await cli(['plan', 'test', '--limit', 'web1'], { cwd, connect: fleet.connect });
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain('after earlier changes');
    expect(plan.stdout).toContain('after "migrate the old conf directory"');
    const apply = await cli(['apply', 'test', '--yes', '--limit', 'web1'], { cwd, connect: fleet.connect });
    expect(apply.code).toBe(0);
    expect(fleet.hosts.get('web1')?.files.get('/srv/conf')).toMatchObject({ type: 'file' });
    expect((await cli(['plan', 'test', '--limit', 'web1'], { cwd, connect: fleet.connect })).code).toBe(0);
  });

  it("a health check failing because another host's changes are still to come waits for them", async () => {
    const cwd = projectDir({
      'playbooks/site.yml':
        '- name: database\n  hosts: db\n  roles: [db]\n- name: web\n  hosts: web\n  roles: [health]\n',
      'roles/db/tasks.yml': '- name: start the database\n  command: { run: start-db, creates: /srv/db-running }\n',
      'roles/health/tasks.yml':
        '- name: the app reaches its database\n  check: { command: db-answers, retries: 2, delay: 0.01 }\n',
    });
    let broken = false;
    const fleet = fakeFleet((_name, h) => {
      h.command = (cmd, host) => {
        if (cmd === 'start-db') host.put('/srv/db-running', { content: '' });
        if (cmd === 'db-answers') return !broken && fleet.hosts.get('db1')?.files.has('/srv/db-running') ? 0 : 1;
        return 0;
      };
    });
    // db1 still has its change to make: web1's check is not a failure yet.
    const plan = await cli(['plan', 'test'], { cwd, connect: fleet.connect });
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain('after the changes planned on db1');
    const apply = await cli(['apply', 'test', '--yes'], { cwd, connect: fleet.connect });
    expect(apply.code).toBe(0);
    expect(apply.stdout).toMatch(/web1\s+ok=1 .*failed=0/);
    expect((await cli(['plan', 'test'], { cwd, connect: fleet.connect })).code).toBe(0);
    // Nothing left to change anywhere: a failing check is a failure again.
    broken = true;
    const failing = await cli(['plan', 'test'], { cwd, connect: fleet.connect });
    expect(failing.code).toBe(3);
    expect(failing.stdout).toContain('check failed after 1 tries: db-answers');
  });

  it('serial: a failed host stops the later batches of its play', async () => {
    const cwd = projectDir({
      'inventory/test.yml':
        'ssh: { key_file: id_test }\ngroups: { web: {} }\nhosts:\n  w1: { address: 10.0.0.1, groups: [web] }\n  w2: { address: 10.0.0.2, groups: [web] }\n',
      'playbooks/site.yml': '- hosts: web\n  serial: 1\n  roles: [base]\n',
      'roles/base/tasks.yml': '- name: run it\n  command: { run: deploy, creates: /srv/deployed }\n',
    });
    const fleet = fakeFleet((name, h) => {
      h.command = (cmd) => (cmd === 'deploy' && name === 'w1' ? 1 : 0);
    });
    const r = await cli(['apply', 'test', '--yes'], { cwd, connect: fleet.connect });
    expect(r.code).toBe(3);
    expect(fleet.hosts.get('w2')?.executed).toEqual([]);
    expect(r.stdout).toMatch(/w2 .*SKIPPED/);
    expect(r.stdout).toContain('an earlier batch of play');
  });

  it('--tags selects tasks; --limit selects hosts', async () => {
    const cwd = projectDir({
      'roles/base/tasks.yml':
        '- name: a\n  file: { path: /srv/a, state: directory }\n  tags: [one]\n- name: b\n  file: { path: /srv/b, state: directory }\n',
    });
    const fleet = fakeFleet();
    const r = await cli(['plan', 'test', '--tags', 'one', '--limit', 'db1', '--json'], { cwd, connect: fleet.connect });
    const doc = JSON.parse(r.stdout) as { hosts: Array<{ host: string; tasks: Array<{ name: string }> }> };
    expect(doc.hosts.map((h) => h.host)).toEqual(['db1']);
    expect(doc.hosts[0]?.tasks.map((t) => t.name)).toEqual(['a']);
  });
});
