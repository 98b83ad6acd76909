import {
  chmodSync,
  existsSync,
  lstatSync,
  readFileSync,
  readdirSync,
  renameSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fingerprint } from '../../../src/transport/known-hosts.js';
import { FakeHost } from '../../support/fake-host/index.js';
import { TransportError, type ConnectionTarget } from '../../../src/transport/transport.js';
import { cli } from '../../support/cli.js';
import { projectDir } from '../../support/project.js';

const block = [
  '# Our fleet.',
  'ssh: { key_file: id_test }',
  'groups:',
  '  frontend: {}',
  '  backend: {}',
  'hosts:',
  '  front1:',
  '    address: 10.0.0.2',
  '    groups: [frontend]',
  '  back1:',
  '    address: 10.0.0.4 # the first backend',
  '    groups: [backend]',
  '# end of hosts',
  '',
].join('\n');

const alignedFlow = [
  'ssh: { key_file: id_test }',
  'groups: { frontend: {}, backend: {} }',
  'hosts:',
  '  front1:  { address: 10.0.0.2, groups: [ frontend ] }',
  '  back1:   { address: 10.0.0.4, groups: [ backend ] }   # first',
  'vars: { site: kanka }',
  '',
].join('\n');

const project = (inventory: string) =>
  projectDir({
    'inventory/test.yml': inventory,
    'playbooks/site.yml': '- hosts: all\n  roles: [base]\n',
    'roles/base/tasks.yml':
      "- name: hosts file\n  copy: { dest: /etc/fleet, content: \"{{ join (addressesOf 'all') ' ' }}\\n\" }\n",
  });

const key = Buffer.concat([
  Buffer.from([0, 0, 0, 11]),
  Buffer.from('ssh-ed25519'),
  Buffer.from([0, 0, 0, 32]),
  Buffer.alloc(32, 7),
]);
const hostKey = async () => ({ key, type: 'ssh-ed25519', fingerprint: fingerprint(key) });

function fleet() {
  const hosts = new Map<string, FakeHost>();
  return {
    hosts,
    connect: async (t: ConnectionTarget) => {
      const h = hosts.get(t.host) ?? FakeHost.with({ '/etc': { type: 'directory' } });
      hosts.set(t.host, h);
      return h;
    },
  };
}

const addBack2 = [
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
];
const inv = (cwd: string) => join(cwd, 'inventory/test.yml');
const known = (cwd: string) => join(cwd, 'inventory/known_hosts');
const pinned = `10.0.0.5 ssh-ed25519 ${key.toString('base64')}\n`;

describe('add-host asks first, writes after, and edits only what it must', { timeout: 30_000 }, () => {
  it('"no" at the question leaves inventory and known_hosts byte-identical (and their modes)', async () => {
    const cwd = project(block);
    writeFileSync(known(cwd), '# pinned keys\n');
    chmodSync(known(cwd), 0o600);
    chmodSync(inv(cwd), 0o600);
    const f = fleet();
    const r = await cli(addBack2, { cwd, connect: f.connect, hostKey, tty: true, stdin: 'no\n' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Cancelled: nothing was changed.');
    expect(readFileSync(inv(cwd), 'utf8')).toBe(block);
    expect(readFileSync(known(cwd), 'utf8')).toBe('# pinned keys\n');
    expect(statSync(inv(cwd)).mode & 0o777).toBe(0o600);
    expect(f.hosts.get('back2')?.applied ?? []).toEqual([]);
    // End of input at the question: cancelled too, exit 1, nothing written.
    const eof = await cli(addBack2, { cwd, connect: f.connect, hostKey, tty: true, stdin: '' });
    expect(eof.code).toBe(1);
    expect(eof.stderr).toContain('Cancelled: nothing was changed.');
    expect(readFileSync(inv(cwd), 'utf8')).toBe(block);
    expect(readdirSync(join(cwd, 'inventory')).sort()).toEqual(['id_test', 'known_hosts', 'test.yml']);
  });

  it('"yes" on a block-style file: the only difference is the new host, in the same style; 0600 stays 0600', async () => {
    const cwd = project(block);
    chmodSync(inv(cwd), 0o600);
    const f = fleet();
    const r = await cli(addBack2, { cwd, connect: f.connect, hostKey, tty: true, stdin: 'yes\n' });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(inv(cwd), 'utf8')).toBe(
      block.replace('# end of hosts', '  back2:\n    address: 10.0.0.5\n    groups: [backend]\n# end of hosts'),
    );
    expect(statSync(inv(cwd)).mode & 0o777).toBe(0o600);
    expect(readFileSync(known(cwd), 'utf8')).toBe(pinned);
    expect(statSync(known(cwd)).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(cwd, 'inventory')).sort()).toEqual(['id_test', 'known_hosts', 'test.yml']);
  });

  it('"yes" on an aligned flow-style file: the new host is aligned like the others, nothing else moves', async () => {
    const cwd = project(alignedFlow);
    const r = await cli([...addBack2, '--yes'], { cwd, connect: fleet().connect, hostKey });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(inv(cwd), 'utf8')).toBe(
      alignedFlow.replace('vars:', '  back2:   { address: 10.0.0.5, groups: [ backend ] }\nvars:'),
    );
  });

  it('a symlinked inventory stays a symlink; the file it points to gets the host', async () => {
    const cwd = project(block);
    renameSync(inv(cwd), join(cwd, 'inventory/real.yml'));
    symlinkSync('real.yml', inv(cwd));
    const r = await cli([...addBack2, '--yes'], { cwd, connect: fleet().connect, hostKey });
    expect(r.code, r.stderr).toBe(0);
    expect(lstatSync(inv(cwd)).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(cwd, 'inventory/real.yml'), 'utf8')).toContain('  back2:\n    address: 10.0.0.5\n');
  });

  it('an unreachable address or a port out of range: one clear line, exit 3 or 1, no stack trace, nothing written', async () => {
    const cwd = project(block);
    const unreachable = async () => {
      throw new TransportError('back2', '10.0.0.5:22', 'unreachable', 'connection timed out');
    };
    const r = await cli([...addBack2, '--yes'], { cwd, connect: fleet().connect, hostKey: unreachable });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('back2 (10.0.0.5:22): connection timed out');
    expect(r.stderr).toContain('nothing was changed');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const port = await cli([...addBack2, '--port', '70000', '--yes'], { cwd, connect: fleet().connect, hostKey });
    expect(port.code).toBe(1);
    expect(port.stderr).toContain('--port must be a whole number from 1 to 65535, got "70000"');
    expect(readFileSync(inv(cwd), 'utf8')).toBe(block);
    expect(existsSync(known(cwd))).toBe(false);
  });
});

describe('remove-host usage errors', () => {
  it('refuses --limit, and an unknown name is a usage error naming the closest hosts', async () => {
    const cwd = project(block);
    const limited = await cli(['remove-host', 'back1', '--env', 'test', '--limit', 'front1', '--yes'], {
      cwd,
      connect: fleet().connect,
    });
    expect(limited.code).toBe(1);
    // Not offered at all: every host that refers to the removed one must be updated.
    expect(limited.stderr).toContain("unknown option '--limit'");
    const unknown = await cli(['remove-host', 'bakc1', '--env', 'test', '--yes'], { cwd, connect: fleet().connect });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('bakc1 is not a host of');
    expect(unknown.stderr).toContain('Did you mean back1?');
    expect(unknown.connected).toEqual([]);
    expect(readFileSync(inv(cwd), 'utf8')).toBe(block);
  });
});
