import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../../support/cli.js';
import { fakeFleet } from '../../support/fake-fleet.js';
import { projectDir } from '../../support/project.js';

const VERSION = (
  JSON.parse(readFileSync(join(import.meta.dirname, '../../../package.json'), 'utf8')) as { version: string }
).version;

interface ErrorDoc {
  version: string;
  ok: boolean;
  exitCode: number;
  error?: { kind: string; message: string; diagnostics?: Array<{ file: string; message: string }> };
}

/** stdout must be exactly one JSON document. */
function onlyDocument(stdout: string): ErrorDoc {
  return JSON.parse(stdout) as ErrorDoc;
}

describe('CLI conventions', () => {
  it('no arguments: the help on stderr, exit 1; a command group alone too', async () => {
    const r = await cli([], { cwd: projectDir() });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Usage: kanka-infra');
    expect(r.stderr).toContain('Exit codes:');
    const db = await cli(['db'], { cwd: projectDir() });
    expect(db.code).toBe(1);
    expect(db.stderr).toContain('Usage: kanka-infra db');
    // Asked for, it is a success.
    expect((await cli(['help'], { cwd: projectDir() })).code).toBe(0);
  });

  it('--version prints the version of package.json', async () => {
    const r = await cli(['--version'], { cwd: projectDir() });
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(VERSION);
  });

  describe('--json: every outcome is one document on stdout with the version', () => {
    it('a usage error of commander (unknown option): kind usage, exit 1, nothing on stderr', async () => {
      const r = await cli(['plan', 'test', '--json', '--forsk', '3'], { cwd: projectDir() });
      expect(r.code).toBe(1);
      const doc = onlyDocument(r.stdout);
      expect(doc).toMatchObject({ version: VERSION, ok: false, exitCode: 1, error: { kind: 'usage' } });
      expect(doc.error?.message).toMatch(/unknown option '--forsk'/);
      expect(r.stderr).toBe('');
    });

    it('a usage error of ours (bad --forks, no command for run)', async () => {
      for (const args of [
        ['plan', 'test', '--json', '--forks', '0'],
        ['run', 'test', '--json'],
      ]) {
        const r = await cli(args, { cwd: projectDir() });
        expect(r.code).toBe(1);
        expect(onlyDocument(r.stdout)).toMatchObject({ version: VERSION, exitCode: 1, error: { kind: 'usage' } });
        expect(r.connected).toEqual([]);
      }
    });

    it('a config error: its diagnostics with file and message, exit 1', async () => {
      const cwd = projectDir({ 'roles/base/tasks.yml': '- name: x\n  file: { path: /a, mode: "rwx" }\n' });
      const r = await cli(['validate', 'test', '--json'], { cwd });
      expect(r.code).toBe(1);
      const doc = onlyDocument(r.stdout);
      expect(doc).toMatchObject({ version: VERSION, ok: false, exitCode: 1, error: { kind: 'config' } });
      expect(doc.error?.diagnostics?.[0]?.file).toMatch(/roles\/base\/tasks\.yml$/);
      expect(doc.error?.diagnostics?.[0]?.message).toMatch(/must be an octal mode/);
      const unknownEnv = await cli(['inventory', 'nope', '--json'], { cwd: projectDir() });
      expect(onlyDocument(unknownEnv.stdout).error?.diagnostics?.[0]?.message).toBe('no environment named "nope"');
    });

    it('successes carry the version too: validate, inventory, plan', async () => {
      const cwd = projectDir();
      for (const args of [
        ['validate', 'test', '--json'],
        ['inventory', 'test', '--json'],
      ]) {
        const r = await cli(args, { cwd });
        expect(r.code).toBe(0);
        expect((JSON.parse(r.stdout) as { version: string }).version).toBe(VERSION);
      }
      const plan = await cli(['plan', 'test', '--json'], { cwd, connect: fakeFleet().connect });
      expect(plan.code).toBe(2);
      expect((JSON.parse(plan.stdout) as { version: string }).version).toBe(VERSION);
    });

    it('remove-host, which applies in stages, prints one document holding each stage', async () => {
      const cwd = projectDir({
        'playbooks/site.yml': '- hosts: all\n  roles: [base]\n- hosts: web\n  roles: [lb]\n',
        'roles/lb/tasks.yml':
          "- name: lb\n  copy: { dest: /etc/lb, content: \"{{ join (addressesOf 'all') ' ' }}\\n\" }\n",
      });
      const r = await cli(['remove-host', 'db1', '--env', 'test', '--drain', 'web', '--yes', '--json'], {
        cwd,
        connect: fakeFleet().connect,
      });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const doc = JSON.parse(r.stdout) as {
        version: string;
        host: string;
        removed: boolean;
        exitCode: number;
        stages: Array<{ step: string; report: { command: string; hosts: Array<{ host: string }> } }>;
      };
      expect(doc).toMatchObject({ version: VERSION, command: 'remove-host', host: 'db1', removed: true, exitCode: 0 });
      expect(doc.stages.map((s) => [s.step, s.report.command, s.report.hosts.map((h) => h.host)])).toEqual([
        ['drain db1 from web', 'apply', ['web1']],
        ['update the rest of the fleet without db1', 'apply', ['web1']],
      ]);
    });

    it("--json after run's -- belongs to the command, not to kanka-infra", async () => {
      const f = fakeFleet();
      const r = await cli(['run', 'test', '-l', 'web1', '--', 'echo', '--json'], {
        cwd: projectDir(),
        connect: f.connect,
      });
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('web1 | ok | exit 0');
      expect(f.hosts.get('web1')?.executed).toEqual(['echo --json']);
    });
  });
});
