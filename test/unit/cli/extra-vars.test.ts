import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectExtraVar, readExtraVars } from '../../../src/cli/extra-vars.js';
import { UsageError } from '../../../src/diagnostics/usage-error.js';
import { encryptVault } from '../../../src/secrets/vault-format.js';
import { cli } from '../../support/cli.js';
import { fakeFleet } from '../../support/fake-fleet.js';
import { projectDir } from '../../support/project.js';
import { tempTree } from '../../support/tmp.js';
import { projectWithSecrets, useVaultPassword, inlineVaultBlock } from '../../support/vault-env.js';

const args = (...values: string[]) => values.reduce<string[]>((all, v) => collectExtraVar(v, all), []);

const motd = (f: ReturnType<typeof fakeFleet>, host: string): string | undefined => {
  const e = f.hosts.get(host)?.files.get('/etc/motd');
  return e?.type === 'file' ? e.content.toString() : undefined;
};

describe('-e extra vars: forms and types', () => {
  it('a value is typed as the same text in a YAML file; name= is the empty string; the last -e wins', () => {
    const vars = readExtraVars(
      args(
        'port=8080',
        'debug=true',
        'version="1.10"',
        'plain=1.10',
        'list=[a, b]',
        'empty=',
        'words=hello world',
        'eq=a=b',
        'port=9090',
      ),
      '/',
    );
    expect(vars).toEqual({
      port: 9090,
      debug: true,
      version: '1.10',
      plain: 1.1,
      list: ['a', 'b'],
      empty: '',
      words: 'hello world',
      eq: 'a=b',
    });
  });

  it('a JSON or YAML mapping, and @file.yml relative to the working directory', () => {
    const dir = tempTree({ 'more.yml': 'from_file: 1\nshared: file\n' });
    expect(readExtraVars(args('{"a": 1, "shared": "json"}', '@more.yml'), dir)).toEqual({
      a: 1,
      from_file: 1,
      shared: 'file',
    });
    expect(readExtraVars(args('@more.yml', 'shared=arg'), dir)).toMatchObject({ shared: 'arg' });
  });

  it('bad forms are usage errors', () => {
    expect(() => args('foo')).toThrow(UsageError);
    expect(() => args('foo')).toThrow('-e "foo": not a variable (give -e name=value');
    expect(() => args('1x=2')).toThrow('"1x" is not a variable name');
    expect(() => args('a.b=2')).toThrow('"a.b" is not a variable name');
    expect(() => args('@')).toThrow(UsageError);
    expect(() => readExtraVars(['@missing.yml'], tempTree())).toThrow(/-e @missing\.yml: no such file/);
    expect(() => readExtraVars(['[1, 2]'], '/')).toThrow(UsageError);
    expect(() => readExtraVars(['{"a": 1'], '/')).toThrow(/not a YAML value/);
    expect(() => readExtraVars(['host=x'], '/')).toThrow(/reserved name/);
    expect(() => readExtraVars(['production=yes'], '/')).toThrow(/-e production: .*boolean/);
  });

  it('an encrypted @file is refused: extra vars are plain', () => {
    const dir = tempTree({ 'enc.yml': encryptVault('a: 1\n', 'pw') });
    expect(() => readExtraVars(['@enc.yml'], dir)).toThrow(/the file is encrypted/);
  });

  it('a !vault value in an @file is refused too (a saved plan would keep it masked, never to match again)', () => {
    const block = inlineVaultBlock('s3cret', 'pw', '  ');
    const dir = tempTree({ 'vars.yml': `a: 1\ndb_password: !vault |\n${block}\n` });
    expect(() => readExtraVars(['@vars.yml'], dir)).toThrow(/-e @vars\.yml:2: db_password is a !vault value/);
  });

  it('a bad @file is a ConfigError with its line', () => {
    const dir = tempTree({ 'bad.yml': 'a: 1\nproduction: maybe\n' });
    expect(() => readExtraVars(['@bad.yml'], dir)).toThrow(/bad\.yml:2.*production/);
  });
});

describe('-e on the command line', () => {
  it('bad -e forms: exit 1 before any connection', async () => {
    const cwd = projectDir();
    for (const bad of [
      ['-e', 'foo'],
      ['-e', '@missing.yml'],
    ]) {
      const f = fakeFleet();
      const r = await cli(['plan', 'test', ...bad], { cwd, connect: f.connect });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^error: -e /);
      expect(f.hosts.size).toBe(0);
    }
  });

  it('plan -e overrides host vars; plan --out keeps the -e values; apply FILE uses them and refuses a new -e', async () => {
    const cwd = projectDir();
    const f = fakeFleet();
    const plan = await cli(['plan', 'test', '-e', 'greeting=howdy', '--out', 'test.plan'], { cwd, connect: f.connect });
    expect(plan.code, plan.stderr).toBe(2);
    expect(JSON.parse(readFileSync(join(cwd, 'test.plan'), 'utf8'))).toMatchObject({
      extraVars: { greeting: 'howdy' },
    });
    const refused = await cli(['apply', 'test.plan', '-e', 'greeting=other'], { cwd, connect: f.connect });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/keeps the selection it was made with, and its -e variables: .* without -e/);
    const apply = await cli(['apply', 'test.plan'], { cwd, connect: f.connect });
    expect(apply.code, apply.stderr).toBe(0);
    // db1 sets greeting: hi as a host var; -e is above it.
    expect(motd(f, 'db1')).toBe('howdy db1\n');
    expect(motd(f, 'web1')).toBe('howdy web1\n');
  });

  it('add-host and remove-host keep -e for --env', async () => {
    const cwd = projectDir();
    const r = await cli(['remove-host', 'nosuchhost', '-e', 'test', '--yes'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(/required option|unknown option/);
    expect(r.stderr).toMatch(/nosuchhost/);
  });

  it('--help of plan says what -e takes and that add-host uses -e for --env', async () => {
    const r = await cli(['plan', '--help'], { cwd: projectDir() });
    expect(r.stdout).toMatch(/-e, --extra-vars <var>/);
    expect(r.stdout).toMatch(/add-host\s+and remove-host use -e for\s+--env/);
  });
});

describe('validate and vars files', () => {
  it('says which vars files it read, and the -e names', async () => {
    const cwd = projectDir({
      'inventory/group_vars/all.yml': 'x: 1\n',
      'inventory/host_vars/db1/main.yml': 'y: 1\n',
    });
    const r = await cli(['validate', 'test', '-e', 'z=1'], { cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`${join(cwd, 'inventory/group_vars/all.yml')}: valid (variables for every host (all))`);
    expect(r.stdout).toContain(`${join(cwd, 'inventory/host_vars/db1/main.yml')}: valid (variables for host db1)`);
    expect(r.stdout).toContain('-e: z (above every other variable)');
    const json = await cli(['validate', 'test', '--json'], { cwd });
    expect(JSON.parse(json.stdout)).toMatchObject({
      varsFiles: [
        { file: join(cwd, 'inventory/group_vars/all.yml'), for: 'every host (all)', encrypted: false },
        { file: join(cwd, 'inventory/host_vars/db1/main.yml'), for: 'host db1', encrypted: false },
      ],
      extraVars: [],
    });
  });

  it('an encrypted vars file needs the password, even for validate (its variable names cannot be guessed)', async () => {
    const cwd = projectDir({ 'inventory/group_vars/db/vault.yml': encryptVault('db_pass: zq-very-secret\n', 'pw') });
    const r = await cli(['validate', 'test'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/group_vars\/db\/vault\.yml: this vars file is encrypted but no password was given/);
  });

  it('validate without the password names only the encrypted vars file (the secrets file alone would be fine)', async () => {
    const cwd = projectWithSecrets('db_password: x\n', 'pw', {
      'inventory/host_vars/db1.yml': encryptVault('y: 1\n', 'pw'),
    });
    const r = await cli(['validate', 'test'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/host_vars\/db1\.yml: this vars file is encrypted but no password was given/);
    expect(r.stderr).not.toContain('test.secrets.yml');
    expect(r.stderr).toContain('1 problem found');
  });

  describe('with the password', () => {
    useVaultPassword('pw');

    it('validate reads it; plan masks its values in every output', async () => {
      const cwd = projectDir({
        'inventory/group_vars/db/vault.yml': encryptVault('db_pass: zq-very-secret\n', 'pw'),
        'roles/base/tasks.yml':
          '- name: env\n  copy: { dest: /etc/app.env, content: "PASS={{ db_pass }}\\n" }\n  when: "eq host.name \'db1\'"\n',
      });
      const v = await cli(['validate', 'test'], { cwd });
      expect(v.code, v.stderr).toBe(0);
      expect(v.stdout).toMatch(/vault\.yml: valid \(variables for group db, encrypted\)/);
      const f = fakeFleet();
      const plan = await cli(['plan', 'test', '--json'], { cwd, connect: f.connect });
      expect(plan.code, plan.stderr).toBe(2);
      expect(plan.stdout + plan.stderr).not.toContain('zq-very-secret');
      const apply = await cli(['apply', 'test', '--yes', '-v'], { cwd, connect: f.connect });
      expect(apply.code, apply.stderr).toBe(0);
      expect(apply.stdout + apply.stderr).not.toContain('zq-very-secret');
      const e = f.hosts.get('db1')?.files.get('/etc/app.env');
      expect(e?.type === 'file' && e.content.toString()).toBe('PASS=zq-very-secret\n');
    });
  });
});

describe('add-host and host_vars', () => {
  it('a host_vars file prepared for the new host is read for its first apply', async () => {
    const cwd = projectDir({
      'inventory/host_vars/web2.yml': 'greeting: prepared\n',
      'roles/base/tasks.yml':
        '- name: motd\n  copy: { dest: /etc/motd, content: "{{ greeting }} {{ host.name }}\\n" }\n',
    });
    // Without add-host, a file for a host the inventory does not have is refused.
    const v = await cli(['validate', 'test'], { cwd });
    expect(v.code).toBe(1);
    expect(v.stderr).toMatch(/host_vars\/web2\.yml: no host named "web2"/);
    const f = fakeFleet();
    const key = Buffer.concat([
      Buffer.from([0, 0, 0, 11]),
      Buffer.from('ssh-ed25519'),
      Buffer.from([0, 0, 0, 32]),
      Buffer.alloc(32, 7),
    ]);
    const shown = `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
    const r = await cli(
      ['add-host', 'web2', '-e', 'test', '--group', 'web', '--address', '10.9.9.3', '--host-key', shown, '--yes'],
      { cwd, connect: f.connect, hostKey: async () => ({ key, type: 'ssh-ed25519', fingerprint: shown }) },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(motd(f, 'web2')).toBe('prepared web2\n');
    expect((await cli(['validate', 'test'], { cwd })).code).toBe(0);
  });
});

describe('group_vars/all.yml is the env level', () => {
  it('`production: true` there makes the inventory production for validate', async () => {
    const cwd = projectDir({
      'inventory/group_vars/all.yml': 'production: true\n',
      'roles/base/defaults.yml': 'ssh_allowed_networks: []\n',
      'roles/base/tasks.yml':
        '- name: firewall\n  copy: { dest: /etc/x, content: "{{ join ssh_allowed_networks \\",\\" }}\\n" }\n',
    });
    const r = await cli(['validate', 'test'], { cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^warning: SSH is open to any address on 2 hosts web1, db1 of the production inventory "test"/m,
    );
  });
});
