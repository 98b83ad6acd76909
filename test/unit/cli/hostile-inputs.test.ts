import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encryptVault } from '../../../src/secrets/vault-format.js';
import { cli } from '../../support/cli.js';
import { fakeFleet } from '../../support/fake-fleet.js';
import { projectDir, projectFiles } from '../../support/project.js';

/**
 * Hostile and broken inputs: every one must end in exit 1 with the file (and line where there is
 * one) named, no stack trace, and no host contacted. `plan` is used because it is the command that
 * would connect if loading let the input through.
 */
interface Case {
  name: string;
  files?: Record<string, string | Buffer | undefined>;
  /** Changes to the project directory that files cannot express (links, directories). */
  setup?: (dir: string) => void;
  args?: string[] | ((dir: string) => string[]);
  /** The file named in the error (end of its path) and, where there is one, the line. */
  file: string;
  line?: number;
  message: RegExp;
}

const INVENTORY = projectFiles()['inventory/test.yml'] ?? '';
const inventoryWith = (extra: string) => `${INVENTORY}${extra}`;
const bytes = (...parts: Array<string | number[]>) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));

const BOMB = [
  'vars:',
  '  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  '  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
  '  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
  '  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
  '  e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
  '  f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]',
  '  g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]',
  '',
].join('\n');

const CASES: Case[] = [
  // Bad YAML
  {
    name: 'YAML alias bomb',
    files: { 'inventory/test.yml': INVENTORY.replace(/^vars:\n {2}greeting: hello\n/m, BOMB) },
    file: 'inventory/test.yml',
    line: 10,
    message: /alias \*e expands the document too far \(an "alias bomb"\?\)/,
  },
  {
    name: 'alias inside the node it refers to',
    files: { 'inventory/test.yml': inventoryWith('name: &n [*n]\n') },
    file: 'inventory/test.yml',
    line: 18,
    message: /alias \*n is inside the node it refers to/,
  },
  {
    name: 'more than 1000 aliases',
    files: {
      'roles/base/defaults.yml': `x: &x 1\n${Array.from({ length: 1001 }, (_, i) => `v${i}: *x`).join('\n')}\n`,
    },
    file: 'roles/base/defaults.yml',
    line: 1002,
    message: /more than 1000 aliases/,
  },
  {
    name: 'alias to an anchor that does not exist',
    files: { 'roles/base/defaults.yml': 'a: *nowhere\n' },
    file: 'roles/base/defaults.yml',
    line: 1,
    message: /alias \*nowhere refers to no anchor/,
  },
  {
    name: 'deep flow nesting',
    files: { 'roles/base/defaults.yml': `a: ${'['.repeat(5000)}${']'.repeat(5000)}\n` },
    file: 'roles/base/defaults.yml',
    line: 1,
    message: /nested more than 200 levels deep/,
  },
  {
    name: 'deep block nesting',
    files: { 'roles/base/defaults.yml': Array.from({ length: 400 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n') },
    file: 'roles/base/defaults.yml',
    line: 202,
    message: /nested more than 200 levels deep/,
  },
  {
    name: 'deep nesting through aliases',
    files: {
      'roles/base/defaults.yml': `l0: &l0 [x]\n${Array.from({ length: 210 }, (_, i) => `l${i + 1}: &l${i + 1} [*l${i}]`).join('\n')}\n`,
    },
    file: 'roles/base/defaults.yml',
    message: /expands the document too far/,
  },
  {
    name: 'duplicate key',
    files: { 'inventory/test.yml': inventoryWith('vars:\n  other: 1\n') },
    file: 'inventory/test.yml',
    line: 18,
    message: /duplicate key "vars" \(first at line 4\)/,
  },
  {
    name: 'duplicate key spelled 1 and "1"',
    files: { 'roles/base/defaults.yml': 'ports:\n  1: a\n  "1": b\n' },
    file: 'roles/base/defaults.yml',
    line: 3,
    message: /duplicate key "1" \(first at line 2\)/,
  },
  {
    name: 'a list as a key',
    files: { 'roles/base/defaults.yml': '? [a, b]\n: x\n' },
    file: 'roles/base/defaults.yml',
    line: 1,
    message: /a list or mapping as a key/,
  },
  {
    name: 'an empty key',
    files: { 'roles/base/defaults.yml': 'a: 1\n: x\n' },
    file: 'roles/base/defaults.yml',
    line: 2,
    message: /an empty key/,
  },
  {
    name: 'a !!binary value',
    files: { 'inventory/test.yml': INVENTORY.replace('    address: 10.9.9.1', '    address: !!binary aGVsbG8=') },
    file: 'inventory/test.yml',
    line: 12,
    message: /the YAML tag !!binary is not supported/,
  },
  {
    name: 'a custom tag',
    files: { 'roles/base/defaults.yml': 'a: !vault { x: 1 }\n' },
    file: 'roles/base/defaults.yml',
    line: 1,
    message: /the YAML tag !vault is not supported[\s\S]*paste what `kanka-infra vault encrypt-string` prints/,
  },
  {
    name: 'a damaged inline !vault value',
    files: { 'roles/base/defaults.yml': 'b: 2\na: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  3561\n', pw: 'pw\n' },
    args: ['plan', 'test', '--vault-password-file', 'pw'],
    file: 'roles/base/defaults.yml',
    line: 2,
    message: /!vault value: malformed vault payload/,
  },
  {
    name: 'tabs as indentation',
    files: { 'inventory/test.yml': INVENTORY.replace('  user: root', '\tuser: root') },
    file: 'inventory/test.yml',
    line: 2,
    message: /YAML syntax error: Tabs are not allowed/,
  },
  {
    name: 'a YAML syntax error',
    files: { 'playbooks/site.yml': '- hosts: all\n  roles: [base\n' },
    file: 'playbooks/site.yml',
    line: 3,
    message: /YAML syntax error/,
  },
  {
    name: 'two documents in one file',
    files: { 'playbooks/site.yml': '- hosts: all\n  roles: [base]\n---\n- hosts: all\n  roles: [base]\n' },
    file: 'playbooks/site.yml',
    message: /YAML syntax error/,
  },
  {
    name: 'a file over 8 MB',
    files: { 'roles/base/defaults.yml': `big: "${'x'.repeat(9 * 1024 * 1024)}"\n` },
    file: 'roles/base/defaults.yml',
    message: /larger than 8 MB/,
  },
  // Text encodings
  {
    name: 'Latin-1 byte in a task list',
    files: { 'roles/base/tasks.yml': bytes('- name: caf', [0xe9], '\n  file: { path: /srv/a }\n') },
    file: 'roles/base/tasks.yml',
    line: 1,
    message: /not UTF-8 text: byte 0xe9 at byte offset 11/,
  },
  {
    name: 'Latin-1 byte in the inventory',
    files: { 'inventory/test.yml': bytes(INVENTORY, 'name: t', [0xff], 'st\n') },
    file: 'inventory/test.yml',
    line: 18,
    message: /not UTF-8 text: byte 0xff/,
  },
  {
    name: 'UTF-16 playbook',
    files: {
      'playbooks/site.yml': Buffer.concat([
        Buffer.from([0xff, 0xfe]),
        Buffer.from('- hosts: all\n  roles: [base]\n', 'utf16le'),
      ]),
    },
    file: 'playbooks/site.yml',
    line: 1,
    message: /not UTF-8 text: byte 0xff at byte offset 0[\s\S]*UTF-16/,
  },
  {
    name: 'an overlong UTF-8 sequence',
    files: { 'roles/base/defaults.yml': bytes('a: ', [0xc0, 0xaf], '\n') },
    file: 'roles/base/defaults.yml',
    line: 1,
    message: /byte 0xc0 at byte offset 3/,
  },
  {
    name: 'non-UTF-8 template',
    files: { 'roles/base/templates/motd.hbs': bytes('Welcome to ', [0xe9, 0x74, 0xe9], '\nline 2\n') },
    file: 'roles/base/templates/motd.hbs',
    line: 1,
    message: /the template is not UTF-8 text: byte 0xe9 at byte offset 11/,
  },
  // Empty task lists
  {
    name: 'an empty tasks.yml',
    files: { 'roles/base/tasks.yml': '' },
    file: 'roles/base/tasks.yml',
    line: 1,
    message: /no tasks in this file/,
  },
  {
    name: 'a comment-only tasks.yml',
    files: { 'roles/base/tasks.yml': '# TODO\n# later\n' },
    file: 'roles/base/tasks.yml',
    line: 1,
    message: /no tasks in this file/,
  },
  {
    name: 'tasks.yml with an empty list',
    files: { 'roles/base/tasks.yml': '[]\n' },
    file: 'roles/base/tasks.yml',
    message: /no tasks in this file/,
  },
  {
    name: 'an empty handlers.yml',
    files: { 'roles/base/handlers.yml': '\n' },
    file: 'roles/base/handlers.yml',
    message: /no handlers in this file/,
  },
  // Wrong content
  {
    name: 'a wrong type',
    files: {
      'inventory/test.yml': INVENTORY.replace('    address: 10.9.9.1', '    address: 10.9.9.1\n    port: twenty'),
    },
    file: 'inventory/test.yml',
    line: 13,
    message: /expected number/,
  },
  {
    name: 'an unknown key',
    files: { 'inventory/test.yml': INVENTORY.replace('    address: 10.9.9.1', '    adress: 10.9.9.1') },
    file: 'inventory/test.yml',
    line: 12,
    message: /unknown key "adress"/,
  },
  {
    name: 'an inventory that is a list',
    files: { 'inventory/test.yml': '- web1\n- db1\n' },
    file: 'inventory/test.yml',
    message: /expected object|mapping/,
  },
  {
    name: 'a task list that is a mapping',
    files: { 'roles/base/tasks.yml': 'name: x\nfile: { path: /a }\n' },
    file: 'roles/base/tasks.yml',
    line: 1,
    message: /expected a list of tasks/,
  },
  {
    name: 'an unknown role',
    files: { 'playbooks/site.yml': '- hosts: all\n  roles: [bsae]\n' },
    file: 'roles/bsae',
    message: /role "bsae" not found/,
  },
  {
    name: 'an unknown module',
    files: { 'roles/base/tasks.yml': '- name: x\n  fiel: { path: /a }\n' },
    file: 'roles/base/tasks.yml',
    line: 2,
    message: /unknown module or task key "fiel"/,
  },
  {
    name: 'a missing playbook',
    args: ['plan', 'test', '--playbook', 'playbooks/nope.yml'],
    file: 'playbooks/nope.yml',
    message: /cannot read playbook: file not found/,
  },
  {
    name: 'an unknown environment',
    args: ['plan', 'tset'],
    file: 'inventory/tset.yml',
    message: /no environment named "tset"[\s\S]*known environments: test/,
  },
  {
    name: 'a missing secrets vault',
    files: { 'inventory/test.yml': `secrets: gone.yml\n${INVENTORY}` },
    args: ['validate', 'test'],
    file: 'inventory/gone.yml',
    message: /cannot read the secrets vault: file not found/,
  },
  {
    name: 'a secrets file that is not a vault',
    files: { 'inventory/test.yml': `secrets: s.yml\n${INVENTORY}`, 'inventory/s.yml': 'db_password: plain\n' },
    args: ['validate', 'test'],
    file: 'inventory/s.yml',
    message: /not an ansible-vault file/,
  },
  // Paths that are not what they should be
  {
    name: 'a directory where tasks.yml should be',
    setup: (d) => mkdirSync(join(d, 'roles/base/tasks.yml/x'), { recursive: true }),
    files: { 'roles/base/tasks.yml': undefined },
    file: 'roles/base/tasks.yml',
    message: /is a directory, not a file/,
  },
  {
    name: 'a directory given as the inventory',
    setup: (d) => mkdirSync(join(d, 'inv.yml')),
    args: (d) => ['plan', join(d, 'inv.yml')],
    file: 'inv.yml',
    message: /is a directory/,
  },
  {
    name: 'a directory given as the playbook',
    args: ['plan', 'test', '--playbook', 'playbooks'],
    file: 'playbooks',
    message: /is a directory, not a file/,
  },
  {
    name: 'tasks.yml a link to itself',
    setup: (d) => symlinkSync('tasks.yml', join(d, 'roles/base/tasks.yml')),
    files: { 'roles/base/tasks.yml': undefined },
    file: 'roles/base/tasks.yml',
    message: /a loop of symbolic links/,
  },
  {
    name: 'the inventory a dangling link',
    setup: (d) => symlinkSync('/nonexistent/inventory.yml', join(d, 'inventory/test.yml')),
    files: { 'inventory/test.yml': undefined },
    file: 'inventory/test.yml',
    message: /no environment named "test"/,
  },
  {
    name: 'a role that is a file',
    files: { 'roles/base': undefined, 'roles/base/tasks.yml': undefined },
    setup: (d) => writeFileSync(join(d, 'roles/base'), 'x'),
    file: 'roles/base',
    message: /role "base" not found/,
  },
  {
    name: 'a template folder looping on itself, and a bad template',
    files: { 'roles/base/templates/t.hbs': bytes([0x80]) },
    setup: (d) => symlinkSync('..', join(d, 'roles/base/templates/up')),
    file: 'roles/base/templates/t.hbs',
    message: /byte 0x80 at byte offset 0/,
  },
  // Targeting (more in targeting.test.ts)
  {
    name: 'an empty --limit',
    args: ['plan', 'test', '--limit', ''],
    file: '--limit',
    message: /--limit "" names no host or group/,
  },
  {
    name: 'a --limit matching no host',
    args: ['plan', 'test', '--limit', 'web9'],
    file: 'inventory/test.yml',
    message: /--limit names no group or host: web9[\s\S]*did you mean .*"web1"/,
  },
  {
    name: 'an empty --tags',
    args: ['plan', 'test', '--tags', ','],
    file: '--tags',
    message: /--tags "," names no tag/,
  },
  {
    name: '--tags matching no task',
    args: ['plan', 'test', '--tags', 'nginx'],
    file: 'playbooks/site.yml',
    message: /no task or play has the tag "nginx"/,
  },
];

describe('hostile inputs: exit 1, the file and line named, no stack trace, no host contacted', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const cwd = projectDir({});
      for (const [rel, content] of Object.entries(c.files ?? {})) {
        const path = join(cwd, rel);
        rmSync(path, { recursive: true, force: true });
        if (content === undefined) continue;
        mkdirSync(join(path, '..'), { recursive: true });
        writeFileSync(path, content);
      }
      c.setup?.(cwd);
      const started = Date.now();
      const args = typeof c.args === 'function' ? c.args(cwd) : (c.args ?? ['plan', 'test']);
      const r = await cli(args, { cwd });
      expect(r.stderr).toMatch(c.message);
      expect(r.code).toBe(1);
      const where = new RegExp(`${escape(c.file)}${c.line !== undefined ? `:${c.line}\\b` : ''}`);
      expect(r.stderr).toMatch(where);
      expect(r.stderr).not.toMatch(/internal error|^\s+at /m);
      expect(r.stdout).not.toMatch(/^\s+at /m);
      expect(r.connected).toEqual([]);
      expect(Date.now() - started).toBeLessThan(15_000);
    });
  }
});

describe('inputs that look odd but are fine', () => {
  it('a UTF-8 BOM at the start of every YAML file is accepted', async () => {
    const files = projectFiles();
    const withBom = Object.fromEntries(Object.entries(files).map(([k, v]) => [k, `\uFEFF${v}`]));
    const r = await cli(['validate', 'test'], {
      cwd: projectDir({
        ...withBom,
        'roles/base/defaults.yml': '\uFEFFport: 80\n',
        'roles/base/handlers.yml': '\uFEFF- name: h\n  file: { path: /srv/h }\n',
      }),
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/1 play, 1 role, 4 tasks on 2 hosts/);
  });

  it('a binary file in files/ is deployed byte for byte with copy: src:', async () => {
    const binary = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0xff, 0xfe, 0x00, 0xe9]);
    const cwd = projectDir({
      'roles/base/tasks.yml': '- name: logo\n  copy: { dest: /srv/logo.png, src: logo.png }\n',
    });
    mkdirSync(join(cwd, 'roles/base/files'));
    writeFileSync(join(cwd, 'roles/base/files/logo.png'), binary);
    const fleet = fakeFleet();
    const r = await cli(['apply', 'test', '--yes', '--limit', 'web1'], { cwd, connect: fleet.connect });
    expect(r.code).toBe(0);
    const file = fleet.hosts.get('web1')?.files.get('/srv/logo.png');
    expect(file && 'content' in file ? Buffer.compare(Buffer.from(file.content as Uint8Array), binary) : -1).toBe(0);
  });

  it('a template folder with a link back up to itself does not hang validate', async () => {
    const cwd = projectDir({ 'roles/base/templates/motd.hbs': 'hi {{ host.name }}\n' });
    symlinkSync('..', join(cwd, 'roles/base/templates/loop'));
    const r = await cli(['validate', 'test'], { cwd });
    expect(r.code).toBe(0);
  });

  it('a 1,000-host inventory with many errors is reported quickly (locating keys stays linear)', async () => {
    const hosts = Array.from(
      { length: 1000 },
      (_, i) => `  h${i}:\n    address: 10.0.${i >> 8}.${i & 255}\n    groups: [nope]\n`,
    ).join('');
    const started = Date.now();
    const r = await cli(['validate', 'test'], {
      cwd: projectDir({ 'inventory/test.yml': `ssh: { key_file: /k }\nhosts:\n${hosts}` }),
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/test\.yml:5:14: hosts\.h0\.groups\[0\]: group "nope" is not declared/);
    expect(r.stderr).toMatch(/1000 problems found/);
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});

describe('validate without the vault password', () => {
  const saved = { password: process.env['KANKA_VAULT_PASSWORD'], file: process.env['KANKA_VAULT_PASSWORD_FILE'] };
  beforeEach(() => {
    delete process.env['KANKA_VAULT_PASSWORD'];
    delete process.env['KANKA_VAULT_PASSWORD_FILE'];
  });
  afterEach(() => {
    for (const [k, v] of [
      ['KANKA_VAULT_PASSWORD', saved.password],
      ['KANKA_VAULT_PASSWORD_FILE', saved.file],
    ] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
  const TEMPLATE = 'DB_PASSWORD={{ secrets.db_password }}\nAPI={{ secrets.anything_at_all }}\n';
  const secretProject = (tasks: string, extraInventory = '', template = TEMPLATE) =>
    projectDir({
      'inventory/test.yml': `secrets: test.secrets.yml\n${extraInventory}${INVENTORY}`,
      'inventory/test.secrets.yml': encryptVault('db_password: s3cret-value\n', 'pw'),
      'roles/base/tasks.yml': tasks,
      'roles/base/templates/env.hbs': template,
    });
  const TASKS = [
    '- name: env file',
    '  template: { src: env.hbs, dest: /etc/app.env, mode: "0600" }',
    '- name: a password argument',
    '  copy: { dest: /etc/pw, content: "{{ secrets.db_password }}" }',
    '- name: a secret in when',
    '  file: { path: /srv/x, state: directory }',
    '  when: "secrets.db_password"',
    '',
  ].join('\n');

  it('checks everything else, treats secrets as opaque strings, and says so in one note line', async () => {
    const r = await cli(['validate', 'test'], { cwd: secretProject(TASKS, 'vault_password_file: not-in-the-clone\n') });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const notes = r.stdout.split('\n').filter((l) => l.startsWith('note:'));
    expect(notes).toEqual([
      expect.stringMatching(
        /secret names \(secrets\.\*\) were not checked: no vault password was given .*KANKA_VAULT_PASSWORD/,
      ),
    ]);
    expect(r.stdout).not.toContain('s3cret-value');
    const json = JSON.parse((await cli(['validate', 'test', '--json'], { cwd: secretProject(TASKS) })).stdout) as {
      secretsChecked: boolean;
      notes: string[];
    };
    expect(json.secretsChecked).toBe(false);
    expect(json.notes).toHaveLength(1);
  });

  it('still finds the other mistakes', async () => {
    const r = await cli(['validate', 'test'], {
      cwd: secretProject(`${TASKS}- name: typo\n  file: { path: "/srv/{{ app_dri }}" }\n`),
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/roles\/base\/tasks\.yml:8: .*unknown variable "app_dri"/);
    expect(r.connected).toEqual([]);
  });

  it('with the password, secret names are checked (an unknown one is an error) and there is no note', async () => {
    process.env['KANKA_VAULT_PASSWORD'] = 'pw';
    const r = await cli(['validate', 'test'], { cwd: secretProject(TASKS) });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/anything_at_all/);
    const ok = await cli(['validate', 'test'], {
      cwd: secretProject(TASKS, '', 'DB_PASSWORD={{ secrets.db_password }}\n'),
    });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).not.toMatch(/note:/);
  });

  it('plan, apply and drift still require the password', async () => {
    for (const args of [
      ['plan', 'test'],
      ['apply', 'test', '--yes'],
      ['drift', 'test'],
    ]) {
      const r = await cli(args, { cwd: secretProject(TASKS) });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/test\.secrets\.yml: the inventory has encrypted secrets but no password was given/);
      expect(r.connected).toEqual([]);
    }
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
