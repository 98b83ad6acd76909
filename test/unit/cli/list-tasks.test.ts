import { describe, expect, it } from 'vitest';
import { renderTaskList, type ListedPlay } from '../../../src/output/task-list.js';
import { cli } from '../../support/cli.js';
import { projectDir } from '../../support/project.js';

/** web1 and db1 run base; web1 also runs web. */
const FILES = {
  'playbooks/site.yml': '- name: everyone\n  hosts: all\n  roles: [base]\n- name: web\n  hosts: web\n  roles: [web]\n',
  'roles/base/tasks.yml':
    '- name: motd\n  copy: { dest: /etc/motd, content: "hi\\n" }\n  tags: [config]\n- name: app dir\n  file: { path: /srv/app, state: directory }\n',
  'roles/web/tasks.yml':
    '- name: nginx site\n  copy: { dest: /etc/nginx/site, content: "x\\n" }\n  tags: [config, nginx]\n',
};

describe('validate --list-tasks', () => {
  it('lists per play the tasks of each host, hosts with the same list together, with their tags', async () => {
    const r = await cli(['validate', 'test', '--list-tasks'], { cwd: projectDir(FILES) });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      [
        'play 1: everyone',
        '  web1, db1 (2 tasks):',
        '    base: motd     [base, config]',
        '    base: app dir  [base]',
        'play 2: web',
        '  web1 (1 task):',
        '    web: nginx site  [web, config, nginx]',
      ].join('\n'),
    );
    expect(r.stdout).toMatch(/valid \(2 plays, 2 roles, 5 tasks on 2 hosts\)/);
    expect(r.connected).toEqual([]);
  });

  it('honours --tags, --skip-tags and --limit, and gives the list in --json', async () => {
    const r = await cli(['validate', 'test', '--list-tasks', '--json', '--tags', 'config', '--skip-tags', 'web'], {
      cwd: projectDir(FILES),
    });
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { plays: ListedPlay[] };
    expect(doc.plays).toEqual([
      {
        index: 0,
        name: 'everyone',
        hosts: [
          { host: 'web1', tasks: [{ key: 'base/motd', role: 'base', name: 'motd', tags: ['base', 'config'] }] },
          { host: 'db1', tasks: [{ key: 'base/motd', role: 'base', name: 'motd', tags: ['base', 'config'] }] },
        ],
      },
    ]);
    const limited = await cli(['validate', 'test', '--list-tasks', '--limit', 'db1', '--start-at-task', 'app dir'], {
      cwd: projectDir(FILES),
    });
    expect(limited.stdout).toContain('play 1: everyone\n  db1 (1 task):\n    base: app dir  [base]\n');
    expect(limited.stdout).not.toContain('play 2');
  });

  it('without --list-tasks, validate --json has no list', async () => {
    const r = await cli(['validate', 'test', '--json'], { cwd: projectDir(FILES) });
    expect(JSON.parse(r.stdout)).not.toHaveProperty('plays');
  });

  it('renders an empty selection as nothing', () => {
    expect(renderTaskList([])).toBe('');
  });
});
