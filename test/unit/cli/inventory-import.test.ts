import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProject } from '../../../src/config/load-project.js';
import type { Project } from '../../../src/config/model.js';
import { hostVars } from '../../../src/engine/vars.js';
import { cli } from '../../support/cli.js';
import { projectDir } from '../../support/project.js';

const INI = [
  '# the fleet, as Ansible knows it',
  'lb1 ansible_host=10.0.0.1',
  '',
  '[web]',
  'web1:2222 ansible_host=10.0.0.2 weight=10 # the first one',
  'web2 ansible_host=10.0.0.3',
  'web[3:4]',
  '',
  '[db]',
  'db1 ansible_host=10.0.0.4 ansible_user=admin',
  '',
  '[backend:children]',
  'web',
  'db',
  '',
  '[backend:vars]',
  'tier=app',
  'ansible_python_interpreter=/usr/bin/python3',
  '',
  '[all:vars]',
  'ansible_user=deploy',
  'ansible_become=true',
  'site=kanka',
  '',
].join('\n');

const YAML = `
all:
  vars: { ansible_user: deploy, ansible_become: true, site: kanka }
  hosts:
    lb1: { ansible_host: 10.0.0.1 }
  children:
    backend:
      vars: { tier: app, ansible_python_interpreter: /usr/bin/python3 }
      children:
        web:
          hosts:
            web1: { ansible_host: 10.0.0.2, ansible_port: 2222, weight: 10 }
            web2: { ansible_host: 10.0.0.3 }
            "web[3:4]":
        db:
          hosts:
            db1: { ansible_host: 10.0.0.4, ansible_user: admin }
`;

const VARS_FILES = {
  'ansible/group_vars/all.yml': 'ntp: pool.ntp.org\nsite_owner: ops\n',
  'ansible/group_vars/backend.yml': 'app_port: 8080\ntier: from-file\n',
  'ansible/group_vars/db/main.yml': 'app_port: 3306\n',
  'ansible/host_vars/web1': 'weight: 20\n',
  'ansible/host_vars/ghost.yml': 'x: 1\n',
};

/** Each host's variables as Ansible computes them for the fixture (ansible_* aside). */
const ANSIBLE_VARS = {
  lb1: { site: 'kanka', ntp: 'pool.ntp.org', site_owner: 'ops' },
  web1: { site: 'kanka', ntp: 'pool.ntp.org', site_owner: 'ops', tier: 'from-file', app_port: 8080, weight: 20 },
  web2: { site: 'kanka', ntp: 'pool.ntp.org', site_owner: 'ops', tier: 'from-file', app_port: 8080 },
  db1: { site: 'kanka', ntp: 'pool.ntp.org', site_owner: 'ops', tier: 'from-file', app_port: 3306 },
};

function project(inventory: Record<string, string>): string {
  return projectDir({
    'inventory/test.yml': undefined,
    'inventory/id_test': undefined,
    'roles/base/tasks.yml': '- name: motd\n  copy: { dest: /etc/motd, content: "{{ site }} {{ ntp }}" }\n',
    ...inventory,
    ...VARS_FILES,
  });
}

function varsPerHost(p: Project): Record<string, unknown> {
  const play = p.plays[0];
  if (!play) throw new Error('no play');
  return Object.fromEntries(p.inventory.hosts.map((h) => [h.name, hostVars(p.inventory, h, play, [])]));
}

describe('inventory import', () => {
  for (const [format, file, content] of [
    ['INI', 'ansible/hosts', INI],
    ['YAML', 'ansible/hosts.yml', YAML],
  ] as const) {
    it(`${format}: the output passes validate and gives every host the variables Ansible gives it; what does not carry over is listed`, async () => {
      const cwd = project({ [file]: content });
      const r = await cli(['inventory', 'import', file, '-o', 'inventory/prod.yml'], { cwd });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('imported 4 host(s), 3 group(s), 4 vars file(s) into');
      expect(r.stderr).toContain('host range "web[3:4]" is not expanded');
      expect(r.stderr).toMatch(/ansible_python_interpreter \(group backend\): no equivalent in kanka-infra/);
      expect(r.stderr).toMatch(
        /host_vars\/ghost\.yml: no host "ghost" in the inventory \(Ansible ignores it\): not copied/,
      );
      expect(r.stderr).toContain('group backend: "tier" is set inline and in a vars file');
      expect(r.stderr).toContain('host web1: "weight" is set inline and in a vars file');
      expect(r.stderr).not.toMatch(/would be .* here but/);
      // web1:2222 and the trailing # comment are Ansible's INI forms, understood.
      expect(r.stderr).not.toContain('not name=value');

      const v = await cli(['validate', 'prod'], { cwd });
      expect(v.code, v.stderr).toBe(0);
      expect(v.stdout).toContain(`${join(cwd, 'inventory/host_vars/web1.yml')}: valid (variables for host web1)`);

      const p = loadProject({ env: 'prod', projectDir: cwd });
      expect(varsPerHost(p)).toEqual(ANSIBLE_VARS);
      expect(p.inventory.ssh).toMatchObject({ user: 'deploy', sudo: true, agent: true });
      expect(p.inventory.hosts.map((h) => [h.name, h.address, h.port, h.user, h.groups])).toEqual([
        ['lb1', '10.0.0.1', 22, 'deploy', []],
        ['web1', '10.0.0.2', 2222, 'deploy', ['backend', 'web']],
        ['web2', '10.0.0.3', 22, 'deploy', ['backend', 'web']],
        ['db1', '10.0.0.4', 22, 'admin', ['backend', 'db']],
      ]);
    });
  }

  it('a variable whose value would differ from Ansible (an inventory group var under a parent group file) is reported', async () => {
    const cwd = projectDir({
      'ansible/hosts': '[web]\nweb1\n[backend:children]\nweb\n[web:vars]\ncolor=blue\n',
      'ansible/group_vars/backend.yml': 'color: green\n',
    });
    const r = await cli(['inventory', 'import', 'ansible/hosts'], { cwd });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^# Imported from .*ansible\/hosts by kanka-infra inventory import\.\nssh:/);
    expect(r.stderr).toContain('host web1: "color" would be "blue" here but "green" in Ansible');
    expect(r.stderr).toContain('1 vars file(s) not copied: give -o <file>');
  });

  it('refuses to overwrite an existing file', async () => {
    const cwd = projectDir({ 'ansible/hosts': 'web1\n' });
    const r = await cli(['inventory', 'import', 'ansible/hosts', '-o', 'inventory/test.yml'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/already there, not overwritten: .*inventory\/test\.yml/);
    expect(readFileSync(join(cwd, 'inventory/test.yml'), 'utf8')).toMatch(/^ssh:/);
  });

  it('inventory <env> still lists an inventory', async () => {
    const r = await cli(['inventory', 'test'], { cwd: projectDir() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/web1 +10\.9\.9\.1/);
  });
});
