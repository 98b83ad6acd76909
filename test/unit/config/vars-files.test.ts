import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ConfigError, type Diagnostic } from '../../../src/diagnostics/diagnostic.js';
import { loadInventory } from '../../../src/config/load-inventory.js';
import { loadProject } from '../../../src/config/load-project.js';
import { compile } from '../../../src/engine/compile.js';
import type { HostProgram } from '../../../src/engine/program.js';
import { Secret } from '../../../src/secrets/secret.js';
import { encryptVault } from '../../../src/secrets/vault-format.js';
import { projectDir } from '../../support/project.js';

/** One task that prints the variables a..e, so each host's merged values can be read off its content. */
const PRINT_VARS = {
  'roles/base/defaults.yml': 'a: default\nb: default\nc: default\nd: default\ne: default\n',
  'roles/base/tasks.yml': [
    '- name: vars',
    '  copy: { dest: /etc/vars, content: "a={{ a }} b={{ b }} c={{ c }} d={{ d }} e={{ e }}" }',
    '',
  ].join('\n'),
};

function contentOf(programs: HostProgram[], host: string): unknown {
  const task = programs.find((p) => p.host.name === host)?.plays[0]?.roles[0]?.tasks[0];
  return (task?.args as { content?: unknown } | undefined)?.content;
}

function problems(files: Record<string, string>): Diagnostic[] {
  const dir = projectDir(files);
  try {
    loadProject({ env: 'test', projectDir: dir });
  } catch (err) {
    if (err instanceof ConfigError) return err.diagnostics;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('group_vars and host_vars beside the inventory', () => {
  it('merge all < group < host < -e, each level over the one below it', () => {
    const dir = projectDir({
      ...PRINT_VARS,
      'inventory/group_vars/all.yml': 'b: all\nc: all\nd: all\ne: all\n',
      'inventory/group_vars/db.yml': 'c: group\nd: group\ne: group\n',
      'inventory/host_vars/db1.yml': 'd: host\ne: host\n',
    });
    const project = loadProject({ env: 'test', projectDir: dir, extraVars: { e: 'extra' } });
    const programs = compile(project);
    expect(contentOf(programs, 'db1')).toBe('a=default b=all c=group d=host e=extra');
    expect(contentOf(programs, 'web1')).toBe('a=default b=all c=all d=all e=extra');
    expect(project.inventory.varsFiles?.map((f) => [f.file.slice(dir.length), f.scope])).toEqual([
      ['/inventory/group_vars/all.yml', { kind: 'all' }],
      ['/inventory/group_vars/db.yml', { kind: 'group', name: 'db' }],
      ['/inventory/host_vars/db1.yml', { kind: 'host', name: 'db1' }],
    ]);
  });

  it('the level decides, not where a variable is written: an inline group var beats group_vars/all.yml, an inline host var beats group_vars/<group>.yml', () => {
    // inventory: db vars { port: 3306 } inline; db1 vars { greeting: hi } inline.
    const dir = projectDir({
      'inventory/group_vars/all.yml': 'port: 1\n',
      'inventory/group_vars/db.yml': 'greeting: from the db group file\n',
      'roles/base/tasks.yml': '- name: v\n  copy: { dest: /etc/v, content: "{{ greeting }} {{ port }}" }\n',
    });
    const programs = compile(loadProject({ env: 'test', projectDir: dir }));
    expect(contentOf(programs, 'db1')).toBe('hi 3306');
    expect(contentOf(programs, 'web1')).toBe('hello 1');
  });

  it('a folder group_vars/<group>/ is read in name order, .yml and .yaml files only', () => {
    const dir = projectDir({
      ...PRINT_VARS,
      'inventory/group_vars/web/20-more.yaml': 'c: second\n',
      'inventory/group_vars/web/10-main.yml': 'b: first\n',
      'inventory/group_vars/web/README.md': 'not read\n',
      'inventory/group_vars/web/.hidden.yml': 'a: not read\n',
    });
    const project = loadProject({ env: 'test', projectDir: dir });
    expect(project.inventory.varsFiles?.map((f) => f.file.slice(dir.length))).toEqual([
      '/inventory/group_vars/web/10-main.yml',
      '/inventory/group_vars/web/20-more.yaml',
    ]);
    expect(contentOf(compile(project), 'web1')).toBe('a=default b=first c=second d=default e=default');
  });

  it('an encrypted vars file: not opened without the password; with it, its values are Secrets and the task reading one is sensitive', () => {
    const dir = projectDir({
      'inventory/host_vars/db1/vault.yml': encryptVault('db_pass: s3cret-value\n', 'pw'),
      'inventory/host_vars/db1/plain.yml': 'db_user: kanka\n',
      'roles/base/tasks.yml':
        '- name: v\n  copy: { dest: /etc/v, content: "{{ db_user }}:{{ db_pass }}" }\n  when: "eq host.name \'db1\'"\n',
    });
    const file = join(dir, 'inventory/test.yml');
    const closed = loadInventory(file).varsFiles?.find((f) => f.encrypted);
    expect(closed).toMatchObject({ encrypted: true, scope: { kind: 'host', name: 'db1' } });
    expect(closed?.vars).toBeUndefined();

    const inventory = loadInventory(file, { vaultPassword: 'pw' });
    const opened = inventory.varsFiles?.find((f) => f.encrypted);
    expect(opened?.vars?.['db_pass']).toBeInstanceOf(Secret);
    expect(JSON.stringify(opened?.vars)).not.toContain('s3cret');

    const project = { ...loadProject({ env: 'test', projectDir: dir }), inventory };
    const task = compile(project).find((p) => p.host.name === 'db1')?.plays[0]?.roles[0]?.tasks[0];
    expect((task?.args as { content: string }).content).toBe('kanka:s3cret-value');
    expect(task?.sensitive?.secrets).toEqual(['s3cret-value']);
  });

  it('a wrong password for an encrypted vars file names the file', () => {
    const dir = projectDir({ 'inventory/group_vars/all.yml': encryptVault('x: 1\n', 'right') });
    expect(() => loadInventory(join(dir, 'inventory/test.yml'), { vaultPassword: 'wrong' })).toThrow(
      /group_vars\/all\.yml.*(password|HMAC|decrypt)/is,
    );
  });

  it('a bad value is reported with the vars file, line and key path', () => {
    const [d, ...rest] = problems({
      'inventory/group_vars/web.yml': 'greeting: hello\nproduction: maybe\n',
    });
    expect(rest).toEqual([]);
    expect(d?.file).toMatch(/inventory\/group_vars\/web\.yml$/);
    expect(d).toMatchObject({ path: ['production'], line: 2 });
  });

  it('a YAML syntax error in a vars file names its line', () => {
    const [d] = problems({ 'inventory/host_vars/web1.yml': 'a: 1\nb: [unclosed\n' });
    expect(d?.file).toMatch(/host_vars\/web1\.yml$/);
    expect(d?.message).toMatch(/YAML syntax error/);
    expect(d?.line).toBeGreaterThan(0);
  });

  it('a vars file for an unknown group or host is an error with a suggestion, not ignored', () => {
    const ds = problems({
      'inventory/group_vars/webs.yml': 'a: 1\n',
      'inventory/host_vars/db2.yml': 'a: 1\n',
      'inventory/host_vars/web1/x.yml': 'a: 1\n',
    });
    expect(ds.map((d) => d.file.replace(/.*\/inventory\//, ''))).toEqual(['group_vars/webs.yml', 'host_vars/db2.yml']);
    expect(ds[0]?.message).toBe('no group named "webs" in the inventory, so these variables would apply to nothing');
    expect(ds[0]?.hint).toMatch(/^did you mean "web"\?/);
    expect(ds[1]?.hint).toMatch(/^did you mean "db1"\?/);
  });

  it('a file without the .yml extension is refused rather than skipped', () => {
    const [d] = problems({ 'inventory/group_vars/web': 'a: 1\n' });
    expect(d?.message).toMatch(/needs the \.yml extension/);
    expect(d?.hint).toBe('rename it to web.yml');
  });

  it('a variable set inline and in a vars file for the same group is an error naming both places', () => {
    // inventory/test.yml sets db: vars: { port: 3306 } on line 9.
    const [d, ...rest] = problems({ 'inventory/group_vars/db.yml': 'other: 1\nport: 3307\n' });
    expect(rest).toEqual([]);
    expect(d?.file).toMatch(/group_vars\/db\.yml$/);
    expect(d).toMatchObject({ path: ['port'], line: 2 });
    expect(d?.message).toMatch(
      /^"port" is also set for group db at .*inventory\/test\.yml:9 \(groups\.db\.vars\.port\)$/,
    );
  });

  it('a variable set in two files of one folder is an error naming the first', () => {
    const [d] = problems({
      'inventory/host_vars/web1/a.yml': 'x: 1\n',
      'inventory/host_vars/web1/b.yml': '\nx: 2\n',
    });
    expect(d?.file).toMatch(/host_vars\/web1\/b\.yml$/);
    expect(d).toMatchObject({ path: ['x'], line: 2 });
    expect(d?.message).toMatch(/"x" is also set for host web1 at .*host_vars\/web1\/a\.yml:1 \(x\)$/);
  });

  it('the inline top-level vars and group_vars/all.yml are one level: a key in both is an error', () => {
    const [d] = problems({ 'inventory/group_vars/all.yml': 'greeting: again\n' });
    expect(d?.message).toMatch(/"greeting" is also set for every host \(all\) at .*test\.yml:5 \(vars\.greeting\)/);
  });

  it('a reserved name in a vars file is reported at that file', () => {
    const dir = projectDir({ 'inventory/group_vars/web.yml': 'host: x\n' });
    let ds: Diagnostic[] = [];
    try {
      compile(loadProject({ env: 'test', projectDir: dir }));
    } catch (err) {
      if (err instanceof ConfigError) ds = err.diagnostics;
    }
    expect(ds).toHaveLength(1);
    expect(ds[0]?.file).toMatch(/group_vars\/web\.yml$/);
    expect(ds[0]?.message).toMatch(/"host" is a reserved name/);
  });

  it('hosts.<name>.vars in templates includes the host_vars files', () => {
    const dir = projectDir({
      'inventory/host_vars/db1.yml': 'role_name: primary\n',
      'roles/base/tasks.yml': '- name: v\n  copy: { dest: /etc/v, content: "{{ hosts.db1.vars.role_name }}" }\n',
    });
    expect(contentOf(compile(loadProject({ env: 'test', projectDir: dir })), 'web1')).toBe('primary');
  });
});
