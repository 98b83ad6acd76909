import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fingerprint } from '../../../src/transport/known-hosts.js';
import { FakeHost } from '../../support/fake-host/index.js';
import type { ConnectionTarget } from '../../../src/transport/transport.js';
import { cli } from '../../support/cli.js';
import { projectDir } from '../../support/project.js';

const inventory = [
  '# Our little fleet. This comment must survive edits.',
  'ssh: { key_file: id_test }',
  'groups:',
  '  frontend: {}   # routes traffic',
  '  backend: {}',
  'hosts:',
  '  front1:',
  '    address: 10.0.0.2',
  '    groups: [frontend]',
  '  back1:',
  '    address: 10.0.0.4 # the first backend',
  '    groups: [backend]',
  '',
].join('\n');

const project = () =>
  projectDir({
    'inventory/test.yml': inventory,
    'playbooks/site.yml': '- hosts: all\n  roles: [base]\n- hosts: frontend\n  roles: [lb]\n',
    'roles/base/tasks.yml':
      "- name: hosts file\n  copy: { dest: /etc/fleet, content: \"{{ join (addressesOf 'all') ' ' }}\\n\" }\n",
    'roles/lb/tasks.yml':
      "- name: backend list\n  copy: { dest: /etc/lb, content: \"{{ join (addressesOf 'backend') ' ' }}\\n\" }\n",
  });

const key = Buffer.concat([
  Buffer.from([0, 0, 0, 11]),
  Buffer.from('ssh-ed25519'),
  Buffer.from([0, 0, 0, 32]),
  Buffer.alloc(32, 7),
]);

function fleet() {
  const hosts = new Map<string, FakeHost>();
  const order: string[] = [];
  return {
    hosts,
    order,
    connect: async (t: ConnectionTarget) => {
      const h = hosts.get(t.host) ?? FakeHost.with({ '/etc': { type: 'directory' } });
      hosts.set(t.host, h);
      const apply = h.apply.bind(h);
      h.apply = async (ops) => {
        if (ops.some((o) => o.op === 'write')) order.push(t.host);
        return apply(ops);
      };
      return h;
    },
    hostKey: async () => ({ key, type: 'ssh-ed25519', fingerprint: fingerprint(key) }),
  };
}

const content = (h: FakeHost | undefined, p: string) => {
  const f = h?.files.get(p);
  return f?.type === 'file' ? f.content.toString() : undefined;
};

describe('add-host and remove-host', { timeout: 30_000 }, () => {
  it('add-host pins the key, adds the host keeping the file, applies it and the hosts that depend on it; again: nothing', async () => {
    const cwd = project();
    const f = fleet();
    await cli(['apply', 'test', '--yes'], { cwd, connect: f.connect });
    const args = [
      'add-host',
      'back2',
      '--env',
      'test',
      '--group',
      'backend',
      '--address',
      '10.0.0.5',
      '--host-key',
      fingerprint(key),
      '--yes',
    ];
    const r = await cli(args, { cwd, connect: f.connect, hostKey: f.hostKey });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const file = readFileSync(join(cwd, 'inventory/test.yml'), 'utf8');
    // Only the new host's lines are added, in the style of the others; every other byte is kept.
    expect(file).toBe(`${inventory}  back2:\n    address: 10.0.0.5\n    groups: [backend]\n`);
    expect(readFileSync(join(cwd, 'inventory/known_hosts'), 'utf8')).toBe(
      `10.0.0.5 ssh-ed25519 ${key.toString('base64')}\n`,
    );
    expect(content(f.hosts.get('front1'), '/etc/lb')).toBe('10.0.0.4 10.0.0.5\n');
    expect(content(f.hosts.get('back2'), '/etc/fleet')).toBe('10.0.0.2 10.0.0.4 10.0.0.5\n');
    const again = await cli(args, { cwd, connect: f.connect, hostKey: f.hostKey });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Applied: no changes.');
    expect(readFileSync(join(cwd, 'inventory/test.yml'), 'utf8')).toBe(file);
  });

  it('a key that does not match --host-key, an unknown group, or a taken name: refused before any change', async () => {
    const cwd = project();
    const f = fleet();
    const before = readFileSync(join(cwd, 'inventory/test.yml'), 'utf8');
    const wrong = await cli(
      [
        'add-host',
        'back2',
        '--env',
        'test',
        '--group',
        'backend',
        '--address',
        '10.0.0.5',
        '--host-key',
        'SHA256:nope',
        '--yes',
      ],
      { cwd, connect: f.connect, hostKey: f.hostKey },
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`offers ssh-ed25519 ${fingerprint(key)}, not SHA256:nope`);
    const noKey = await cli(
      ['add-host', 'back2', '--env', 'test', '--group', 'backend', '--address', '10.0.0.5', '--yes'],
      { cwd, connect: f.connect, hostKey: f.hostKey },
    );
    expect(noKey.stderr).toContain(`pass --host-key ${fingerprint(key)}`);
    const group = await cli(['add-host', 'back2', '--env', 'test', '--group', 'db', '--address', '10.0.0.5', '--yes'], {
      cwd,
      connect: f.connect,
      hostKey: f.hostKey,
    });
    expect(group.stderr).toContain('group "db" is not declared');
    const taken = await cli(
      ['add-host', 'back1', '--env', 'test', '--group', 'backend', '--address', '10.0.0.9', '--yes'],
      { cwd, connect: f.connect, hostKey: f.hostKey },
    );
    expect(taken.stderr).toContain('a host named back1 already exists');
    expect(readFileSync(join(cwd, 'inventory/test.yml'), 'utf8')).toBe(before);
    expect(f.hosts.size).toBe(0);
  });

  it('remove-host drains the frontends first, then the rest, then drops it from the inventory; the host is untouched', async () => {
    const cwd = project();
    const f = fleet();
    await cli(
      [
        'add-host',
        'back2',
        '--env',
        'test',
        '--group',
        'backend',
        '--address',
        '10.0.0.5',
        '--host-key',
        fingerprint(key),
        '--yes',
      ],
      { cwd, connect: f.connect, hostKey: f.hostKey },
    );
    f.order.length = 0;
    const r = await cli(['remove-host', 'back2', '--env', 'test', '--yes'], { cwd, connect: f.connect });
    expect(r.code, r.stderr).toBe(0);
    expect(f.order[0]).toBe('front1');
    expect(f.order).not.toContain('back2');
    expect(content(f.hosts.get('front1'), '/etc/lb')).toBe('10.0.0.4\n');
    expect(content(f.hosts.get('back1'), '/etc/fleet')).toBe('10.0.0.2 10.0.0.4\n');
    expect(readFileSync(join(cwd, 'inventory/test.yml'), 'utf8')).not.toContain('back2');
    expect(readFileSync(join(cwd, 'inventory/known_hosts'), 'utf8')).not.toContain('10.0.0.5');
    // Once removed, the name is unknown: a usage error (exit 1) that says it may be removed already.
    const again = await cli(['remove-host', 'back2', '--env', 'test', '--yes'], { cwd, connect: f.connect });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('back2 is not a host of');
    expect(again.stderr).toContain('(already removed?)');
  });
});
