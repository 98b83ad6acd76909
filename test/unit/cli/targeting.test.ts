import { describe, expect, it } from 'vitest';
import { cli } from '../../support/cli.js';
import { fakeFleet } from '../../support/fake-fleet.js';
import { projectDir } from '../../support/project.js';

/** web1 (group web) and db1 (group db); task "a" tagged one on every host, "b" untagged. */
const TAGGED = {
  'roles/base/tasks.yml':
    '- name: a\n  file: { path: /srv/a, state: directory }\n  tags: [one]\n- name: b\n  file: { path: /srv/b, state: directory }\n',
};

const COMMANDS: string[][] = [
  ['validate', 'test'],
  ['plan', 'test'],
  ['apply', 'test', '--yes'],
  ['drift', 'test'],
];

const BAD: Array<{ args: string[]; error: RegExp; hint: RegExp }> = [
  { args: ['--limit', ''], error: /--limit "" names no host or group/, hint: /leave --limit out to target every host/ },
  { args: ['--limit', ' , : '], error: /--limit " , : " names no host or group/, hint: /leave --limit out/ },
  {
    args: ['--limit', 'webb1'],
    error: /test\.yml: --limit names no group or host: webb1/,
    hint: /did you mean "web1".*hosts: web1, db1; groups: web, db/,
  },
  { args: ['--limit', 'dbb*'], error: /--limit names no group or host: dbb\*/, hint: /did you mean "db"/ },
  { args: ['--limit', '!web'], error: /--limit "!web" matches no host/, hint: /write "all:!web"/ },
  { args: ['--limit', 'web:&db'], error: /--limit "web:&db" matches no host/, hint: /hosts: web1, db1/ },
  { args: ['--tags', ''], error: /--tags "" names no tag/, hint: /leave --tags out/ },
  { args: ['--tags', ','], error: /--tags "," names no tag/, hint: /leave --tags out/ },
  { args: ['--tags', 'one,'], error: /--tags "one," has an empty tag/, hint: /comma-separated/ },
  {
    args: ['--tags', 'onne'],
    error: /site\.yml: --tags: no task or play has the tag "onne"/,
    hint: /did you mean "one"\? tags in this playbook: one/,
  },
  { args: ['--tags', 'one,zzz'], error: /no task or play has the tag "zzz"/, hint: /tags in this playbook: one/ },
  { args: ['--skip-tags', ''], error: /--skip-tags "" names no tag/, hint: /comma-separated/ },
  {
    args: ['--skip-tags', 'onne'],
    error: /--skip-tags: no task or play has the tag "onne"/,
    hint: /did you mean "one"/,
  },
  { args: ['--start-at-task', ' '], error: /--start-at-task "" names no task/, hint: /leave --start-at-task out/ },
  {
    args: ['--start-at-task', 'bb'],
    error: /site\.yml: --start-at-task: no task of this playbook is named "bb"/,
    hint: /did you mean "b"/,
  },
  {
    args: ['--tags', 'one', '--skip-tags', 'one'],
    error: /--tags one --skip-tags one select no task/,
    hint: /tags in this playbook: base, one/,
  },
];

describe('--limit and --tags cannot silently mean something else', () => {
  for (const command of COMMANDS) {
    for (const bad of BAD) {
      it(`${command[0]} ${bad.args.map((a) => JSON.stringify(a)).join(' ')}: usage error, exit 1, nobody contacted`, async () => {
        const r = await cli([...command, ...bad.args], { cwd: projectDir(TAGGED) });
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(bad.error);
        expect(r.stderr).toMatch(bad.hint);
        expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
        expect(r.connected).toEqual([]);
      });
    }
  }

  it('a limit naming a host that no play runs on is an error', async () => {
    const cwd = projectDir({ ...TAGGED, 'playbooks/site.yml': '- hosts: web\n  roles: [base]\n' });
    const r = await cli(['plan', 'test', '--limit', 'db1'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/site\.yml: --limit selects db1, but no play of this playbook runs on it/);
    expect(r.stderr).toMatch(/hint: the plays run on: web1/);
    expect(r.connected).toEqual([]);
  });

  it('tags that exist, but on no task of the limited hosts, are an error', async () => {
    const cwd = projectDir({
      'playbooks/site.yml': '- hosts: web\n  roles: [web]\n- hosts: db\n  roles: [base]\n',
      'roles/web/tasks.yml': '- name: w\n  file: { path: /srv/w, state: directory }\n  tags: [nginx]\n',
    });
    const r = await cli(['plan', 'test', '--limit', 'db1', '--tags', 'nginx'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--tags nginx selects no task on db1/);
    expect(r.connected).toEqual([]);
  });

  it('remove-host has no --limit (it must update every host)', async () => {
    const r = await cli(['remove-host', 'web1', '--env', 'test', '--yes', '--limit', 'db1'], { cwd: projectDir() });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unknown option '--limit'/);
    expect(r.connected).toEqual([]);
  });

  it('valid patterns keep their meaning: exclusion from all, intersection, prefix, play tags', async () => {
    const cwd = projectDir(TAGGED);
    const fleet = fakeFleet();
    const hostsOf = async (...args: string[]) => {
      const r = await cli(['plan', 'test', '--json', ...args], { cwd, connect: fleet.connect });
      expect(r.stderr).toBe('');
      return (JSON.parse(r.stdout) as { hosts: Array<{ host: string; tasks: Array<{ name: string }> }> }).hosts.map(
        (h) => `${h.host}:${h.tasks.map((t) => t.name).join(',')}`,
      );
    };
    expect(await hostsOf('--limit', 'all:!web1')).toEqual(['db1:a,b']);
    expect(await hostsOf('--limit', 'all:&db')).toEqual(['db1:a,b']);
    expect(await hostsOf('--limit', 'we*')).toEqual(['web1:a,b']);
    expect(await hostsOf('--limit', 'web1,db1', '--tags', 'one')).toEqual(['web1:a', 'db1:a']);
    const playTagged = projectDir({
      ...TAGGED,
      'playbooks/site.yml': '- hosts: all\n  roles: [base]\n  tags: [site]\n',
    });
    const r = await cli(['validate', 'test', '--tags', 'site'], { cwd: playTagged });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/4 tasks on 2 hosts/);
  });
});
