import { describe, expect, it } from 'vitest';
import { APPLY_LOG } from '../../../src/engine/lock.js';
import { TransportError, type ConnectionTarget } from '../../../src/transport/transport.js';
import { cli } from '../../support/cli.js';
import { fakeFleet } from '../../support/fake-fleet.js';
import { projectDir, projectFiles } from '../../support/project.js';
import { projectWithSecrets, useVaultPassword, inlineVaultBlock } from '../../support/vault-env.js';

/** Each fake host answers `hostname` with its name and fails `test "$(hostname)" != <itself>`. */
function fleet() {
  return fakeFleet((name, host) => {
    host.commandOutput = (command) => {
      if (command === 'hostname') return { stdout: `${name}\n`, stderr: '', code: 0 };
      if (command === `test "$(hostname)" != ${name}`) return { stdout: '', stderr: '', code: 1 };
      if (command === 'cat /etc/app.env') return { stdout: 'DB_PASSWORD=s3cret-db-pw\n', stderr: '', code: 0 };
      return undefined;
    };
  });
}

function logOf(f: ReturnType<typeof fleet>, host: string): string {
  const entry = f.hosts.get(host)?.files.get(APPLY_LOG);
  return entry?.type === 'file' ? entry.content.toString() : '';
}

describe('run: an ad-hoc command on the selected hosts', () => {
  it('runs on every host, output grouped per host, exit 0; recorded in each apply log', async () => {
    const f = fleet();
    const r = await cli(['run', 'test', '--', 'hostname'], { cwd: projectDir(), connect: f.connect });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('web1 | ok | exit 0\n  web1\n');
    expect(r.stdout).toContain('db1 | ok | exit 0\n  db1\n');
    expect(r.stdout).toMatch(/2 hosts: 2 ok, 0 failed, 0 unreachable/);
    for (const host of ['web1', 'db1']) {
      const record = JSON.parse(logOf(f, host).trim()) as Record<string, unknown>;
      expect(record).toMatchObject({
        command: 'kanka-infra run test -- hostname',
        run: 'hostname',
        status: 'ok',
        exitCode: 0,
        env: 'test',
      });
    }
  });

  it('--limit selects hosts; the words after -- are one command line, as ssh joins them', async () => {
    const f = fleet();
    const r = await cli(['run', 'test', '--limit', 'db', '--', 'test', '"$(hostname)"', '!=', 'db1'], {
      cwd: projectDir(),
      connect: f.connect,
    });
    expect(r.connected).toEqual(['db1']);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('db1 | FAILED | exit 1');
  });

  it('fails on one host only: exit 3, the other host still shown; --json is one document with the version', async () => {
    const f = fleet();
    const r = await cli(['run', 'test', '--json', '--forks', '1', '--', 'test "$(hostname)" != web1'], {
      cwd: projectDir(),
      connect: f.connect,
    });
    expect(r.code).toBe(3);
    const doc = JSON.parse(r.stdout) as {
      version: string;
      exitCode: number;
      hosts: Array<{ host: string; status: string; exitCode: number }>;
      summary: { failed: string[]; ok: string[] };
    };
    expect(doc.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(doc.exitCode).toBe(3);
    expect(doc.hosts.map((h) => [h.host, h.status, h.exitCode])).toEqual([
      ['web1', 'failed', 1],
      ['db1', 'ok', 0],
    ]);
    expect(doc.summary).toMatchObject({ failed: ['web1'], ok: ['db1'] });
    expect(JSON.parse(logOf(f, 'web1'))).toMatchObject({ status: 'failed', exitCode: 1 });
  });

  it('an unreachable host: exit 3, the others still run', async () => {
    const f = fleet();
    const connect = (t: ConnectionTarget) =>
      t.host === 'web1'
        ? Promise.reject(new TransportError('web1', '10.9.9.1:22', 'unreachable', 'connection refused'))
        : f.connect(t);
    const r = await cli(['run', 'test', '--', 'hostname'], { cwd: projectDir(), connect });
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('web1 | UNREACHABLE\n  web1 (10.9.9.1:22): connection refused');
    expect(r.stdout).toContain('db1 | ok | exit 0\n  db1\n');
  });

  it('runs through sudo when the inventory says so (the connection target carries it)', async () => {
    const f = fleet();
    const targets: ConnectionTarget[] = [];
    const inventory = projectFiles()['inventory/test.yml']?.replace('  user: root', '  user: deploy\n  sudo: true');
    const r = await cli(['run', 'test', '-l', 'web1', '--', 'hostname'], {
      cwd: projectDir({ 'inventory/test.yml': inventory }),
      connect: (t) => {
        targets.push(t);
        return f.connect(t);
      },
    });
    expect(r.code).toBe(0);
    expect(targets.map((t) => [t.user, t.sudo])).toEqual([['deploy', true]]);
  });

  it('no command, or words not after --: a usage error (exit 1), no host contacted', async () => {
    for (const args of [
      ['run', 'test'],
      ['run', 'test', '--'],
      ['run', 'test', '--', ' '],
      ['run', 'test', 'uptime'],
    ]) {
      const r = await cli(args, { cwd: projectDir() });
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toMatch(/^error: (no command given|put the command after --)/);
      expect(r.connected).toEqual([]);
    }
  });

  it('an unknown --limit is a config error before any connection', async () => {
    const r = await cli(['run', 'test', '--limit', 'wbe1', '--', 'uptime'], { cwd: projectDir() });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--limit names no group or host: wbe1/);
    expect(r.connected).toEqual([]);
  });

  it('works while the playbook is broken: only the inventory is read', async () => {
    const f = fleet();
    const r = await cli(['run', 'test', '--', 'hostname'], {
      cwd: projectDir({ 'roles/base/tasks.yml': '- name: x\n  file: { path: /a, mode: "rwx" }\n' }),
      connect: f.connect,
    });
    expect(r.code).toBe(0);
  });

  describe('secrets', () => {
    const PASSWORD = 'run test password';
    useVaultPassword(PASSWORD);

    it('a value of the vault the command prints is masked, in the output, --json and the apply log', async () => {
      const cwd = projectWithSecrets('db_password: s3cret-db-pw\n', PASSWORD);
      for (const extra of [[], ['--json']]) {
        const f = fleet();
        const r = await cli(['run', 'test', ...extra, '--', 'cat /etc/app.env'], { cwd, connect: f.connect });
        expect(r.code).toBe(0);
        expect(r.stdout).toContain('DB_PASSWORD=<secret>');
        expect(r.stdout + r.stderr).not.toContain('s3cret-db-pw');
      }
      // The command line itself holds the value: the host's record does not.
      const f = fleet();
      const r = await cli(['run', 'test', '-l', 'web1', '--', 'echo s3cret-db-pw'], { cwd, connect: f.connect });
      expect(r.code).toBe(0);
      expect(f.hosts.get('web1')?.executed).toContain('echo s3cret-db-pw');
      const log = logOf(f, 'web1');
      expect(log).toContain('"run":"echo <secret>"');
      expect(log).not.toContain('s3cret-db-pw');
    });

    it("a role's !vault value is masked too (found without loading the roles); none given: no password, no connection", async () => {
      const block = inlineVaultBlock('s3cret-db-pw', PASSWORD, '  ');
      const cwd = projectDir({ 'roles/base/defaults.yml': `db_password: !vault |\n${block}\n` });
      const f = fleet();
      const r = await cli(['run', 'test', '-l', 'web1', '--', 'cat /etc/app.env'], { cwd, connect: f.connect });
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('DB_PASSWORD=<secret>');
      expect(r.stdout + r.stderr + logOf(f, 'web1')).not.toContain('s3cret-db-pw');
      delete process.env['KANKA_VAULT_PASSWORD'];
      const refused = await cli(['run', 'test', '--', 'uptime'], { cwd });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(
        /roles\/base\/defaults\.yml:1: the project has !vault values but no password was given/,
      );
      expect(refused.connected).toEqual([]);
    });

    it('without the vault password: a config error, nothing contacted', async () => {
      delete process.env['KANKA_VAULT_PASSWORD'];
      const cwd = projectWithSecrets('db_password: s3cret-db-pw\n', PASSWORD);
      const r = await cli(['run', 'test', '--', 'uptime'], { cwd });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/encrypted secrets but no password was given/);
      expect(r.connected).toEqual([]);
    });
  });
});
