import { describe, expect, it } from 'vitest';
import { FakeHost } from '../../support/fake-host/index.js';
import type { ConnectionTarget } from '../../../src/transport/transport.js';
import { cli } from '../../support/cli.js';
import { projectWithSecrets, useVaultPassword } from '../../support/vault-env.js';

const PASSWORD = 'correct horse battery staple';
// A quote and a backslash: JSON output escapes them, masking must still find the value.
const DB_PASSWORD = 'Kq8#s3c"ret\\-db-pw';
const REDIS_PASSWORD = 'redis-pw-7781';

function secretProject(tasks: string): string {
  return projectWithSecrets(
    `db_password: ${JSON.stringify(DB_PASSWORD)}\nredis:\n  password: ${REDIS_PASSWORD}\n`,
    PASSWORD,
    { 'roles/base/tasks.yml': tasks },
  );
}

describe('secrets never reach the output', () => {
  useVaultPassword(PASSWORD);

  const tasks = [
    '- name: app env',
    '  copy:',
    '    dest: /etc/app.env',
    '    content: "DB_HOST=db1\\nDB_PASSWORD={{ secrets.db_password }}\\nREDIS={{ secrets.redis.password }}\\n"',
    '- name: set the password',
    '  command: { run: "echo {{ secrets.db_password }} | chpasswd", unless: "false" }',
    '',
  ].join('\n');

  it('plan, apply and --json --verbose show (sensitive) where the values are, and the host gets the real values', async () => {
    const cwd = secretProject(tasks);
    const hosts = new Map<string, FakeHost>();
    const connect = async (t: ConnectionTarget) => {
      const h = hosts.get(t.host) ?? FakeHost.with({ '/etc': { type: 'directory' } });
      h.command = (cmd) => (cmd === 'false' ? 1 : 0);
      hosts.set(t.host, h);
      return h;
    };
    const runs = [
      await cli(['plan', 'test', '--verbose'], { cwd, connect }),
      await cli(['plan', 'test', '--json', '--verbose'], { cwd, connect }),
      await cli(['apply', 'test', '--yes', '--verbose'], { cwd, connect }),
    ];
    for (const r of runs) {
      const all = r.stdout + r.stderr;
      // Also as JSON spells it: DB_PASSWORD has a quote, escaped in --json.
      expect(all).not.toContain(JSON.stringify(DB_PASSWORD).slice(1, -1));
      expect(all).not.toContain(DB_PASSWORD);
      expect(all).not.toContain(REDIS_PASSWORD);
      expect(all).not.toContain('DB_HOST=db1');
      expect(all).toContain('(sensitive');
    }
    // A file whose content read a secret: how much changed and the hashes, never a line of it.
    expect(runs[0]?.stdout).toMatch(/\(sensitive content: 3 lines changed\)/);
    expect(runs[0]?.stdout).toContain('echo (sensitive) | chpasswd');
    const json = JSON.parse(runs[1]?.stdout ?? '{}') as {
      hosts: Array<{ tasks: Array<{ changes: Array<{ diff?: string; sensitive?: boolean }> }> }>;
    };
    const envChange = json.hosts[0]?.tasks[0]?.changes[0];
    expect(envChange?.sensitive).toBe(true);
    expect(envChange?.diff).toMatch(/^\(sensitive content/);
    const file = hosts.get('web1')?.files.get('/etc/app.env');
    expect(file?.type === 'file' && file.content.toString()).toBe(
      `DB_HOST=db1\nDB_PASSWORD=${DB_PASSWORD}\nREDIS=${REDIS_PASSWORD}\n`,
    );
  });

  it('an error message that would contain a secret masks it', async () => {
    const cwd = secretProject('- name: bad\n  file: { path: "{{ secrets.db_password }}" }\n');
    const r = await cli(['validate', 'test'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr + r.stdout).not.toContain(DB_PASSWORD);
  });

  it('without a password: exit 1 with what to set (plan; validate can do without)', async () => {
    delete process.env['KANKA_VAULT_PASSWORD'];
    const r = await cli(['plan', 'test'], { cwd: secretProject(tasks) });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no password was given');
    expect(r.stderr).toContain('KANKA_VAULT_PASSWORD');
  });

  it('with a wrong password: exit 1, no plaintext', async () => {
    process.env['KANKA_VAULT_PASSWORD'] = 'wrong';
    const r = await cli(['validate', 'test'], { cwd: secretProject(tasks) });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/wrong vault password/);
  });
});
