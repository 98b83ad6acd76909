import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeHost } from '../../support/fake-host/index.js';
import type { ConnectionTarget } from '../../../src/transport/transport.js';
import { encryptVault } from '../../../src/secrets/vault-format.js';
import { cli } from '../../support/cli.js';
import { stubVaultEnv } from '../../support/vault-env.js';
import { projectDir, projectFiles } from '../../support/project.js';

const FIXTURES = join(import.meta.dirname, '..', 'secrets', 'fixtures');
/** `db_password: !vault |` as ansible-vault 2.14 encrypt_string printed it (vault ID prod). */
const ANSIBLE_BLOCK = readFileSync(join(FIXTURES, 'prod.encrypt-string.yml'), 'utf8');
const VALUE = 'inline-s3cret-from-ansible';
const INVENTORY = projectFiles()['inventory/test.yml'] ?? '';
/** The same block, as it would be pasted straight into a task's arguments. */
const IN_ARGS = ANSIBLE_BLOCK.replace('db_password: ', '')
  .trimEnd()
  .split('\n')
  .map((l, i) => (i === 0 ? l : `    ${l}`))
  .join('\n');
const TASKS = [
  '- name: env',
  '  copy: { dest: /etc/app.env, content: "PW={{ db_password }}\\n" }',
  '- name: raw',
  '  copy:',
  '    dest: /etc/raw.txt',
  `    content: ${IN_ARGS}`,
  '',
].join('\n');

/** The test project with the ansible-printed block pasted under the inventory's vars:. */
function project(): string {
  const indented = ANSIBLE_BLOCK.trimEnd()
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
  const dir = projectDir({
    'inventory/test.yml': INVENTORY.replace('vars:\n', `vars:\n${indented}\n`),
    'roles/base/tasks.yml': TASKS,
  });
  copyFileSync(join(FIXTURES, 'prod.vault-password'), join(dir, 'prod.pw'));
  writeFileSync(join(dir, 'wrong.pw'), 'wrong\n');
  return dir;
}

stubVaultEnv();

describe('inline !vault values in project YAML', () => {
  it('are decrypted into Secrets: plan shows (sensitive), the host gets the value, nothing prints it', async () => {
    const cwd = project();
    const hosts = new Map<string, FakeHost>();
    const connect = async (t: ConnectionTarget) => {
      const h = hosts.get(t.host) ?? FakeHost.with({ '/etc': { type: 'directory' } });
      hosts.set(t.host, h);
      return h;
    };
    const plan = await cli(['plan', 'test', '--vault-id', 'prod@prod.pw'], { cwd, connect });
    expect(plan.code).toBe(2);
    const apply = await cli(['apply', 'test', '--yes', '--vault-id', 'prod@prod.pw'], { cwd, connect });
    expect(apply.code).toBe(0);
    for (const r of [plan, apply]) expect(r.stdout + r.stderr).not.toContain(VALUE);
    const file = hosts.get('web1')?.files.get('/etc/app.env');
    expect(file?.type === 'file' && file.content.toString()).toBe(`PW=${VALUE}\n`);
    // Pasted straight into a task's arguments (as Ansible allows): the value, sensitive too.
    const raw = hosts.get('web1')?.files.get('/etc/raw.txt');
    expect(raw?.type === 'file' && raw.content.toString()).toBe(VALUE);
    expect(plan.stdout).toMatch(/\+ create \/etc\/raw\.txt {2}\[base\] raw\n {6}\(sensitive content: 1 line changed\)/);
  });

  it('validate needs no password for them; plan does, and says where', async () => {
    const cwd = project();
    const validate = await cli(['validate', 'test'], { cwd });
    expect(validate.code).toBe(0);
    const plan = await cli(['plan', 'test'], { cwd });
    expect(plan.code).toBe(1);
    expect(plan.stderr).toMatch(/inventory\/test\.yml:5: the project has !vault values but no password was given/);
    expect(plan.connected).toEqual([]);
  });

  it('in a group_vars file, next to an encrypted host_vars file, both opened with --vault-id', async () => {
    const cwd = projectDir({
      'inventory/group_vars/web.yml': ANSIBLE_BLOCK,
      'inventory/host_vars/web1.yml': encryptVault('web_token: t0ken-from-host-vars\n', 'prod-host', {
        vaultId: 'prod',
      }),
      'roles/base/tasks.yml':
        '- name: env\n  copy: { dest: /etc/app.env, content: "PW={{ db_password }} T={{ web_token }}\\n" }\n  when: "eq host.name \'web1\'"\n',
    });
    copyFileSync(join(FIXTURES, 'prod.vault-password'), join(cwd, 'prod.pw'));
    writeFileSync(join(cwd, 'host.pw'), 'prod-host\n');
    const host = FakeHost.with({ '/etc': { type: 'directory' } });
    const connect = async () => Promise.resolve(host);
    const ids = ['--vault-id', 'prod@prod.pw', '--vault-id', 'prod@host.pw'];
    const apply = await cli(['apply', 'test', '--yes', '--limit', 'web1', ...ids], { cwd, connect });
    expect(apply.code, apply.stderr).toBe(0);
    expect(apply.stdout + apply.stderr).not.toMatch(new RegExp(`${VALUE}|t0ken`));
    const file = host.files.get('/etc/app.env');
    expect(file?.type === 'file' && file.content.toString()).toBe(`PW=${VALUE} T=t0ken-from-host-vars\n`);
  });

  it('a wrong password names the file and line of the value', async () => {
    const cwd = project();
    const r = await cli(['plan', 'test', '--vault-password-file', 'wrong.pw'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/inventory\/test\.yml:5: !vault value: wrong vault password \(HMAC mismatch\)/);
    expect(r.connected).toEqual([]);
  });
});
