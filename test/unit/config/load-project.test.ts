import { describe, expect, it } from 'vitest';
import { ConfigError, type Diagnostic } from '../../../src/diagnostics/diagnostic.js';
import { loadProject } from '../../../src/config/load-project.js';
import { compile } from '../../../src/engine/compile.js';
import { projectDir } from '../../support/project.js';

function problems(overrides: Record<string, string | undefined>, opts: { limit?: string } = {}): Diagnostic[] {
  const dir = projectDir(overrides);
  try {
    compile(loadProject({ env: 'test', projectDir: dir }), opts);
  } catch (err) {
    if (err instanceof ConfigError) return err.diagnostics;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loading a project', () => {
  it('loads a valid project and merges variables by precedence', () => {
    const dir = projectDir();
    const programs = compile(loadProject({ env: 'test', projectDir: dir }));
    expect(programs.map((p) => p.host.name)).toEqual(['web1', 'db1']);
    const motd = (name: string) =>
      programs.find((p) => p.host.name === name)?.plays[0]?.roles[0]?.tasks[0]?.args as { content: string };
    expect(motd('web1').content).toBe('hello web1\n');
    expect(motd('db1').content).toBe('hi db1\n');
  });

  it('a YAML syntax error names file and line', () => {
    const [d] = problems({ 'inventory/test.yml': 'hosts:\n  web1:\n    address: [unclosed\n' });
    expect(d?.file).toMatch(/inventory\/test\.yml$/);
    expect(d?.message).toMatch(/YAML syntax error/);
    expect(d?.line).toBeGreaterThan(0);
  });

  it('a wrong type names the key path and line', () => {
    const ds = problems({
      'inventory/test.yml':
        'ssh: { key_file: /k }\ngroups: { web: {} }\nhosts:\n  web1:\n    address: 10.0.0.1\n    port: "twenty-two"\n    groups: [web]\n',
    });
    expect(ds).toHaveLength(1);
    expect(ds[0]).toMatchObject({ path: ['hosts', 'web1', 'port'], line: 6 });
    expect(ds[0]?.message).toMatch(/expected number, got the string "twenty-two"/);
  });

  it('an unknown key is an error with a suggestion', () => {
    const ds = problems({
      'inventory/test.yml':
        'ssh: { key_file: /k }\ngroups: { web: {} }\nhosts:\n  web1:\n    adress: 10.0.0.1\n    groups: [web]\n',
    });
    const unknown = ds.find((d) => d.message.includes('unknown key'));
    expect(unknown).toMatchObject({ path: ['hosts', 'web1', 'adress'], line: 5 });
    expect(unknown?.hint).toMatch(/did you mean "address"/);
  });

  it('a play naming a group that does not exist', () => {
    const ds = problems({ 'playbooks/site.yml': '- hosts: webservers\n  roles: [base]\n' });
    expect(ds[0]?.message).toMatch(/no group or host named "webservers"/);
    expect(ds[0]?.file).toMatch(/playbooks\/site\.yml$/);
    expect(ds[0]?.path).toEqual([0, 'hosts']);
  });

  it('a missing role, a missing playbook and a missing inventory', () => {
    expect(problems({ 'playbooks/site.yml': '- hosts: all\n  roles: [nginx]\n' })[0]?.message).toMatch(
      /role "nginx" not found/,
    );
    expect(problems({ 'playbooks/site.yml': undefined })[0]?.message).toMatch(/cannot read playbook: file not found/);
    const ds = problems({
      'inventory/test.yml': undefined,
      'inventory/prod.yml': 'hosts: {}',
      'inventory/prod.secrets.yml': '$ANSIBLE_VAULT;1.1;AES256\n3735\n',
    });
    expect(ds[0]?.message).toMatch(/no environment named "test"/);
    // The encrypted secrets file beside it is not offered as an environment.
    expect(ds[0]?.hint).toBe('known environments: prod');
  });

  it('a host in an undeclared group (a typo) is an error', () => {
    const ds = problems({
      'inventory/test.yml':
        'ssh: { key_file: /k }\ngroups: { web: {} }\nhosts:\n  web1:\n    address: 10.0.0.1\n    groups: [wbe]\n',
    });
    expect(ds[0]).toMatchObject({ path: ['hosts', 'web1', 'groups', 0], line: 6 });
    expect(ds[0]?.message).toMatch(/group "wbe" is not declared/);
  });

  it('an unknown module, two modules in one task, and bad module arguments', () => {
    expect(problems({ 'roles/base/tasks.yml': '- name: x\n  cpoy: { dest: /a, content: b }\n' })[0]?.message).toMatch(
      /unknown module or task key "cpoy"/,
    );
    expect(
      problems({ 'roles/base/tasks.yml': '- name: x\n  copy: { dest: /a, content: b }\n  file: { path: /a }\n' })[0]
        ?.message,
    ).toMatch(/2 module keys/);
    const [d] = problems({ 'roles/base/tasks.yml': '- name: x\n  file:\n    path: relative/path\n' });
    expect(d).toMatchObject({ path: [0, 'file', 'path'], line: 3 });
    expect(d?.message).toMatch(/file: must be an absolute path/);
  });

  it('an unknown variable in a task names the task and variable', () => {
    const [d] = problems({ 'roles/base/tasks.yml': '- name: x\n  file: { path: "/srv/{{ app_dir }}" }\n' });
    expect(d?.message).toMatch(/unknown variable "app_dir"/);
    expect(d?.file).toMatch(/roles\/base\/tasks\.yml$/);
  });

  it('notify naming a handler that does not exist', () => {
    expect(
      problems({ 'roles/base/tasks.yml': '- name: x\n  file: { path: /a }\n  notify: restart nginx\n' })[0]?.message,
    ).toMatch(/no role in this playbook has a handler/);
  });

  it('--limit naming nothing is an error, not an empty run', () => {
    expect(problems({}, { limit: 'web9' })[0]?.message).toMatch(/--limit names no group or host: web9/);
  });
});

describe('when and loop', () => {
  it('when selects hosts by variables; loop repeats a task with {{ item }}', () => {
    const dir = projectDir({
      'roles/base/tasks.yml': [
        '- name: only on db hosts',
        '  file: { path: /srv/db, state: directory }',
        '  when: "eq port 3306"',
        '- name: not on db hosts',
        '  file: { path: /srv/web, state: directory }',
        '  when: "not port"',
        '- name: admin',
        '  user: { name: "{{ item.name }}", shell: "{{ item.shell }}" }',
        '  loop: "{{ admins }}"',
        '- name: dirs',
        '  file: { path: "/srv/{{ item }}", state: directory }',
        '  loop: [a, b]',
        '',
      ].join('\n'),
      // Optional values are declared: `port` is 0 unless a host sets it (strict `when`).
      'roles/base/defaults.yml':
        'port: 0\nadmins:\n  - { name: alice, shell: /bin/bash }\n  - { name: bob, shell: /bin/sh }\n',
    });
    const programs = compile(loadProject({ env: 'test', projectDir: dir }));
    const names = (h: string) => programs.find((p) => p.host.name === h)?.plays[0]?.roles[0]?.tasks.map((t) => t.name);
    expect(names('db1')).toEqual(['only on db hosts', 'admin (alice)', 'admin (bob)', 'dirs (a)', 'dirs (b)']);
    expect(names('web1')).toEqual(['not on db hosts', 'admin (alice)', 'admin (bob)', 'dirs (a)', 'dirs (b)']);
    const bob = programs[0]?.plays[0]?.roles[0]?.tasks.find((t) => t.name === 'admin (bob)');
    expect(bob?.args).toMatchObject({ name: 'bob', shell: '/bin/sh' });
  });

  it('loop: "{{ range 1 count }}" repeats a task count times (none for 0); a huge range is an error', () => {
    const tasks =
      '- name: worker\n  service: { name: "q@{{ item }}", enabled: true }\n  loop: "{{ range 1 workers }}"\n';
    const names = (workers: string) => {
      const dir = projectDir({ 'roles/base/tasks.yml': tasks, 'roles/base/defaults.yml': `workers: ${workers}\n` });
      return compile(loadProject({ env: 'test', projectDir: dir }))[0]?.plays[0]?.roles[0]?.tasks.map((t) => [
        t.name,
        (t.args as { name: string }).name,
      ]);
    };
    expect(names('3')).toEqual([
      ['worker (1)', 'q@1'],
      ['worker (2)', 'q@2'],
      ['worker (3)', 'q@3'],
    ]);
    expect(names('0')).toEqual([]);
    const ds = problems({ 'roles/base/tasks.yml': tasks, 'roles/base/defaults.yml': 'workers: 5000\n' });
    expect(ds[0]?.message).toMatch(/range 1 5000 has more than 1000 items/);
    const half = problems({ 'roles/base/tasks.yml': tasks, 'roles/base/defaults.yml': 'workers: 1.5\n' });
    expect(half[0]?.message).toMatch(/range needs two integers/);
  });

  it('a loop over something that is not a list is an error naming the task', () => {
    const ds = problems({
      'roles/base/tasks.yml': '- name: x\n  file: { path: "/srv/{{ item }}" }\n  loop: "{{ greeting }}"\n',
    });
    expect(ds[0]?.message).toMatch(/loop must be a list/);
    expect(ds[0]?.file).toMatch(/tasks\.yml$/);
  });
});

describe('helpers in task arguments', () => {
  it('a whole-string helper call keeps its type (a list of addresses)', () => {
    const dir = projectDir({
      'roles/base/tasks.yml':
        "- name: db user\n  mysql_user: { name: kanka, hosts: \"{{ addressesOf 'web' 'db' }}\" }\n- name: motd\n  copy: { dest: /etc/motd, content: \"{{ upper greeting }} from {{ join (addressesOf 'db') ', ' }}\\n\" }\n",
    });
    const programs = compile(loadProject({ env: 'test', projectDir: dir }));
    const tasks = programs[0]?.plays[0]?.roles[0]?.tasks;
    expect(tasks?.[0]?.args).toMatchObject({ hosts: ['10.9.9.1', '10.9.9.2'] });
    expect(tasks?.[1]?.args).toMatchObject({ content: 'HELLO from 10.9.9.2\n' });
  });

  it('a helper naming an unknown group is an error', () => {
    const ds = problems({
      'roles/base/tasks.yml': '- name: x\n  mysql_user: { name: kanka, hosts: "{{ addressesOf \'nope\' }}" }\n',
    });
    expect(ds[0]?.message).toMatch(/no group or host named nope/);
  });
});
