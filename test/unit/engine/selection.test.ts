import { describe, expect, it } from 'vitest';
import { loadProject } from '../../../src/config/load-project.js';
import { ConfigError } from '../../../src/diagnostics/diagnostic.js';
import { compile, type CompileOptions } from '../../../src/engine/compile.js';
import { allTasks } from '../../../src/engine/program.js';
import { projectDir } from '../../support/project.js';

const task = (name: string, tags: string[] = []) =>
  `- name: ${name}\n  file: { path: /srv/${name.replace(/ /g, '-')}, state: directory }\n${tags.length ? `  tags: [${tags.join(', ')}]\n` : ''}`;

/** web1 runs base then web; db1 runs base. */
const FILES = {
  'playbooks/site.yml': '- hosts: all\n  roles: [base]\n- hosts: web\n  roles: [web]\n',
  'roles/base/tasks.yml': task('users', ['config']) + task('packages', ['packages']) + task('motd'),
  'roles/web/tasks.yml': task('install nginx', ['packages', 'nginx']) + task('site', ['config', 'nginx']),
  'roles/web/handlers.yml': '- name: reload nginx\n  service: { name: nginx, state: reloaded }\n',
};

function selected(opts: CompileOptions, files: Record<string, string> = FILES): string[] {
  const project = loadProject({ env: 'test', projectDir: projectDir(files) });
  return compile(project, opts).flatMap((p) => allTasks(p).map((t) => `${p.host.name} ${t.key}`));
}

function problem(opts: CompileOptions, files: Record<string, string> = FILES): string {
  try {
    selected(opts, files);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('task selection', () => {
  it('every task carries its role name as a tag', () => {
    expect(selected({ tags: ['web'] })).toEqual(['web1 web/install nginx', 'web1 web/site']);
    expect(selected({ tags: ['base'], limit: 'db1' })).toEqual([
      'db1 base/users',
      'db1 base/packages',
      'db1 base/motd',
    ]);
  });

  it('--tags keeps tasks with one of the tags; --skip-tags drops those with one, and wins', () => {
    expect(selected({ tags: ['packages'] })).toEqual([
      'web1 base/packages',
      'web1 web/install nginx',
      'db1 base/packages',
    ]);
    expect(selected({ skipTags: ['packages', 'web'] })).toEqual([
      'web1 base/users',
      'web1 base/motd',
      'db1 base/users',
      'db1 base/motd',
    ]);
    expect(selected({ tags: ['nginx'], skipTags: ['packages'] })).toEqual(['web1 web/site']);
  });

  it('an unknown --skip-tags tag is an error with the closest names', () => {
    expect(problem({ skipTags: ['pakages'] })).toMatch(
      /--skip-tags: no task or play has the tag "pakages".*did you mean "packages"\?.*its role's name: base, web/s,
    );
  });

  it('a selection that leaves no task is an error naming the flags', () => {
    expect(problem({ skipTags: ['base', 'web'] })).toMatch(/--skip-tags base,web select no task in this playbook/);
  });

  it('--start-at-task skips, on each host, the tasks before the first with that name, across plays', () => {
    expect(selected({ startAtTask: 'motd' })).toEqual([
      'web1 base/motd',
      'web1 web/install nginx',
      'web1 web/site',
      'db1 base/motd',
    ]);
    // A host without the task runs nothing; tags apply after the start.
    expect(selected({ startAtTask: 'web/site' })).toEqual(['web1 web/site']);
    expect(selected({ startAtTask: 'packages', tags: ['config'] })).toEqual(['web1 web/site']);
  });

  it('--start-at-task naming no task is an error with "did you mean", before any host is contacted', () => {
    expect(problem({ startAtTask: 'instal nginx' })).toMatch(
      /--start-at-task: no task of this playbook is named "instal nginx".*did you mean "install nginx"\?/s,
    );
    expect(problem({ startAtTask: 'site', limit: 'db1' })).toMatch(/--start-at-task "site" select no task on db1/);
  });

  it('handlers stay in the program of a selection, so a notifying task still finds them', () => {
    const project = loadProject({ env: 'test', projectDir: projectDir(FILES) });
    const [web1] = compile(project, { tags: ['config'], limit: 'web1' });
    const web = web1?.plays[1]?.roles[0];
    expect(web?.tasks.map((t) => t.key)).toEqual(['web/site']);
    expect(web?.handlers.map((t) => t.key)).toEqual(['web/handler/reload nginx']);
  });
});

describe('task keys', () => {
  it('are role and task name, so they do not move when another task is added', () => {
    const before = selected({ limit: 'db1' });
    const after = selected(
      { limit: 'db1' },
      { ...FILES, 'roles/base/tasks.yml': task('first') + (FILES['roles/base/tasks.yml'] ?? '') },
    );
    expect(before).toEqual(['db1 base/users', 'db1 base/packages', 'db1 base/motd']);
    expect(after).toEqual(['db1 base/first', ...before]);
  });

  it('name the loop item by its position and the play when a role is applied again', () => {
    const files = {
      ...FILES,
      'playbooks/site.yml': '- hosts: db\n  roles: [base]\n- hosts: db\n  roles: [base]\n',
      'roles/base/tasks.yml': '- name: dirs\n  file: { path: "/srv/{{ item }}", state: directory }\n  loop: [a, b]\n',
    };
    expect(selected({}, files)).toEqual([
      'db1 base/dirs[1]',
      'db1 base/dirs[2]',
      'db1 1:base/dirs[1]',
      'db1 1:base/dirs[2]',
    ]);
  });

  it('two tasks of one role with the same name are a ConfigError with file and line', () => {
    const files = { ...FILES, 'roles/base/tasks.yml': task('motd') + task('users') + task('motd') };
    expect(problem({}, files)).toMatch(
      /roles\/base\/tasks\.yml:5.*two tasks of this role are named "motd" \(the first on line 1\)/s,
    );
  });
});
