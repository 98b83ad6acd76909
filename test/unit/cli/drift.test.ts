import { afterEach, describe, expect, it } from 'vitest';
import { TransportError, type ConnectionTarget } from '../../../src/transport/transport.js';
import { cli } from '../../support/cli.js';
import { fakeFleet } from '../../support/fake-fleet.js';
import { projectDir } from '../../support/project.js';
import { webhookReceiver } from '../../support/webhook-receiver.js';

let close: (() => void) | undefined;
afterEach(() => {
  close?.();
  close = undefined;
});

/** The shared loopback receiver, closed after each test; bodies parsed as the JSON they are. */
async function receiver(status = 204): Promise<{ url: string; bodies: unknown[] }> {
  const r = await webhookReceiver(status);
  close = r.close;
  return {
    url: r.url,
    get bodies() {
      return r.bodies.map((b) => JSON.parse(b) as unknown);
    },
  };
}

describe('drift', () => {
  it('0 and silent webhook when nothing drifted; 2 with the diff and a webhook post after a hand edit', async () => {
    const cwd = projectDir();
    const f = fakeFleet();
    expect((await cli(['apply', 'test', '--yes'], { cwd, connect: f.connect })).code).toBe(0);
    const hook = await receiver();
    const clean = await cli(['drift', 'test', '--webhook', hook.url], { cwd, connect: f.connect });
    expect(clean.code).toBe(0);
    expect(clean.stdout).toContain('Drift: no changes on 2 host(s).');
    expect(clean.stderr).toBe('');
    expect(hook.bodies).toEqual([]);

    f.hosts.get('db1')?.put('/etc/motd', { content: 'hand edit\n' });
    f.hosts.get('db1')?.put('/srv/app', { type: 'directory', mode: '0700' });
    const drift = await cli(['drift', 'test', '--webhook', hook.url], { cwd, connect: f.connect });
    expect(drift.code).toBe(2);
    expect(drift.stdout).toContain('db1 (10.9.9.2)');
    expect(drift.stdout).toContain('-hand edit');
    expect(drift.stdout).toContain('~ update /srv/app  mode 0700 -> 0755');
    expect(drift.stdout).not.toContain('\u001b[');
    expect(drift.stderr).toBe('drift: summary posted to the webhook\n');
    expect(hook.bodies).toHaveLength(1);
    const body = hook.bodies[0] as { text: string; content: string };
    expect(body.content).toBe(body.text);
    expect(body.text).toMatch(
      /^kanka-infra drift test: drift found\n- db1: 2 drifted item\(s\): update \/etc\/motd; update \/srv\/app/,
    );
    // drift changed nothing
    const motd = f.hosts.get('db1')?.files.get('/etc/motd');
    expect(motd?.type === 'file' && motd.content.toString()).toBe('hand edit\n');
  });

  it('a health check failing because another host drifted is reported with the drift, and says why', async () => {
    const cwd = projectDir({
      'playbooks/site.yml':
        '- name: database\n  hosts: db\n  roles: [db]\n- name: web\n  hosts: web\n  roles: [health]\n',
      'roles/db/tasks.yml': '- name: database config\n  copy: { dest: /etc/db.conf, content: "listen = all\\n" }\n',
      'roles/health/tasks.yml':
        '- name: the app reaches its database\n  check: { command: db-answers, retries: 1, delay: 0.01 }\n',
    });
    const f = fakeFleet((_name, h) => {
      h.command = (cmd) => {
        const conf = f.hosts.get('db1')?.files.get('/etc/db.conf');
        return cmd === 'db-answers' && !(conf?.type === 'file' && conf.content.toString() === 'listen = all\n') ? 1 : 0;
      };
    });
    expect((await cli(['apply', 'test', '--yes'], { cwd, connect: f.connect })).code).toBe(0);
    f.hosts.get('db1')?.put('/etc/db.conf', { content: 'listen = localhost\n' });
    const hook = await receiver();
    const drift = await cli(['drift', 'test', '--webhook', hook.url], { cwd, connect: f.connect });
    expect(drift.code).toBe(2);
    const body = hook.bodies[0] as { text: string };
    expect(body.text).toContain('- db1: 1 drifted item(s): update /etc/db.conf');
    expect(body.text).toContain(
      '- web1: 1 drifted item(s): the app reaches its database (after the changes planned on db1: check failed after 1 tries: db-answers)',
    );
  });

  it('a host that cannot be checked: exit 3, the others are still reported; a failing webhook is one clear line', async () => {
    const cwd = projectDir();
    const f = fakeFleet();
    await cli(['apply', 'test', '--yes'], { cwd, connect: f.connect });
    f.hosts.get('web1')?.put('/etc/motd', { content: 'edited\n' });
    const connect = async (t: ConnectionTarget) => {
      if (t.host === 'db1')
        throw new TransportError(
          'db1',
          '10.9.9.2:22',
          'unreachable',
          'connection timed out after 10 s (host down or firewalled?)',
        );
      return f.connect(t);
    };
    const hook = await receiver(500);
    const r = await cli(['drift', 'test', '--webhook', hook.url], { cwd, connect });
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('-edited');
    expect(r.stdout).toContain('db1 (10.9.9.2:22): connection timed out');
    expect(r.stderr).toBe('drift: webhook answered HTTP 500 (the report above is complete)\n');
    const dead = await cli(['drift', 'test', '--webhook', 'http://127.0.0.1:39999/nothing-listens'], { cwd, connect });
    expect(dead.stderr).toMatch(/^drift: webhook post failed: ECONNREFUSED/);
  });
});
