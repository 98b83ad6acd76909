import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandHostPattern } from '../../../src/config/ansible/host-range.js';
import { parseIniInventory, shellWords } from '../../../src/config/ansible/ini-inventory.js';
import { pythonLiteral } from '../../../src/config/ansible/python-literal.js';
import { encryptVault } from '../../../src/secrets/vault-format.js';
import { loadInventory } from '../../../src/config/load-inventory.js';
import type { Play } from '../../../src/config/model.js';
import { hostVars } from '../../../src/engine/vars.js';
import { cli } from '../../support/cli.js';
import { inlineVaultBlock } from '../../support/vault-env.js';
import { projectDir } from '../../support/project.js';

/**
 * `inventory import`: an Ansible inventory (INI or YAML) with group_vars/ and host_vars/ becomes
 * this project's format. The truth is Ansible's own: ansible-host-vars.json is what
 * `ansible-inventory --host` (ansible-core 2.14) prints for each host of the fixture.
 */
const FIXTURE = join(import.meta.dirname, 'fixtures/ansible-import');
const ANSIBLE_VARS = JSON.parse(readFileSync(join(FIXTURE, 'ansible-host-vars.json'), 'utf8')) as Record<
  string,
  Record<string, unknown>
>;
const EMPTY_PLAY: Play = {
  name: 'import',
  hosts: 'all',
  roles: [],
  tags: [],
  vars: {},
  source: { file: 'x', path: [] },
};
const HOSTS = Object.keys(ANSIBLE_VARS);

function withAnsibleFixture(): string {
  const cwd = projectDir({ 'inventory/test.yml': undefined });
  cpSync(FIXTURE, join(cwd, 'ansible'), { recursive: true });
  return cwd;
}

describe('inventory import', () => {
  for (const form of ['hosts.ini', 'hosts.yml']) {
    it(`${form}: validate accepts the result, and every host gets the variables Ansible gives it`, async () => {
      const cwd = withAnsibleFixture();
      const r = await cli(['inventory', 'import', `ansible/${form}`, '-o', 'inventory/imported.yml'], { cwd });
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/wrote inventory\/imported\.yml: 5 hosts, 5 groups .* and 6 vars files/);
      expect(r.stdout).toContain('every Ansible setting found was mapped');
      expect(r.stdout).toMatch(/group all: ansible_python_interpreter: not needed/);
      expect(r.code).toBe(0);

      const validate = await cli(['validate', 'imported'], { cwd });
      expect(validate.stderr).toBe('');
      expect(validate.code).toBe(0);

      const inv = loadInventory(join(cwd, 'inventory/imported.yml'));
      expect(inv.hosts.map((h) => h.name).sort()).toEqual([...HOSTS].sort());
      expect(inv.ssh.key_file).toBe(join(cwd, 'inventory/id_test'));
      for (const host of inv.hosts) {
        const ansible = ANSIBLE_VARS[host.name] ?? {};
        const plain = Object.fromEntries(Object.entries(ansible).filter(([k]) => !k.startsWith('ansible_')));
        expect(hostVars(inv, host, EMPTY_PLAY, []), host.name).toEqual(plain);
        expect(host.address, host.name).toBe(ansible['ansible_host']);
        expect(host.port, host.name).toBe(ansible['ansible_port'] ?? 22);
        expect(host.user, host.name).toBe(ansible['ansible_user']);
      }
      // Children are flattened: a host is in its groups and their parents, parents first.
      expect(inv.hosts.find((h) => h.name === 'backend1')?.groups).toEqual(['kanka', 'web', 'backend']);
    });
  }

  const have = spawnSync('sh', ['-c', 'command -v ansible-inventory']).status === 0;
  it.skipIf(!process.env['CI'] && !have)('the expected variables are what ansible-inventory prints today', () => {
    for (const form of ['hosts.ini', 'hosts.yml']) {
      const r = spawnSync('ansible-inventory', ['-i', form, '--list'], { cwd: FIXTURE, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const listed = JSON.parse(r.stdout) as { _meta: { hostvars: Record<string, unknown> } };
      expect(listed._meta.hostvars, form).toEqual(ANSIBLE_VARS);
    }
  });

  it('lists every setting it cannot map, with file and line, writes the rest, exit 2', async () => {
    const cwd = withAnsibleFixture();
    writeFileSync(
      join(cwd, 'ansible/more.ini'),
      [
        '[backend]',
        'backend1 ansible_become=true ansible_ssh_common_args="-o ProxyCommand=x"',
        'bad_host! x=1',
        'db[1:x]',
        '[backend:vars]',
        'listen={{ http_port }}',
        'groups=1',
        '[docker]',
        'box ansible_connection=docker',
        '',
      ].join('\n'),
    );
    mkdirSync(join(cwd, 'ansible/gv'));
    writeFileSync(
      join(cwd, 'ansible/gv/backend.yml'),
      'db_password: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6231\nport: 3306\n',
    );
    writeFileSync(join(cwd, 'ansible/gv/nosuchgroup.yml'), 'a: 1\n');
    const r = await cli(
      ['inventory', 'import', 'ansible/more.ini', '--group-vars', 'ansible/gv', '-o', 'inventory/more.yml'],
      {
        cwd,
      },
    );
    expect(r.code).toBe(2);
    const report = r.stdout;
    expect(report).toMatch(
      /ansible\/more\.ini:3: host bad_host!: host name "bad_host!" is not a valid kanka-infra name/,
    );
    expect(report).toMatch(/ansible\/more\.ini:4: \[backend\] db\[1:x\]: a host range that cannot be expanded/);
    expect(report).toMatch(/ansible\/more\.ini:2: host backend1: ansible_ssh_common_args: no kanka-infra setting/);
    expect(report).toMatch(/ansible_become: become is set for some hosts only/);
    expect(report).toMatch(
      /hosts without ansible_user \(backend1, box\) connect as ssh\.user \(root\), where Ansible used your local login/,
    );
    expect(report).toMatch(/group backend: listen: a Jinja2 expression/);
    expect(report).toMatch(/group backend: groups: variable "groups" is a name kanka-infra gives every template/);
    expect(report).toMatch(
      /ansible\/more\.ini:9: host box: ansible_connection: docker: only SSH connections are supported/,
    );
    expect(report).toMatch(/ansible\/host_vars: backend2: vars for host "backend2", which the inventory does not have/);
    expect(report).not.toMatch(/not JSON/);
    expect(report).toContain('!vault values carried over as they are (1)');
    expect(report).toMatch(/nosuchgroup: vars for group "nosuchgroup", which the inventory does not have/);
    const written = readFileSync(join(cwd, 'inventory/more.yml'), 'utf8');
    // The report is kept in the file too; the !vault value is carried over still encrypted.
    expect(written).toMatch(/^# Not mapped \(\d+\)/m);
    expect(written).toContain('db_password: !vault |\n        $ANSIBLE_VAULT;1.1;AES256\n        6231\n');
    expect(loadInventory(join(cwd, 'inventory/more.yml')).groups.get('backend')?.vars).toMatchObject({
      port: 3306,
      listen: '{{ http_port }}',
      db_password: { text: '$ANSIBLE_VAULT;1.1;AES256\n6231\n' },
    });
  });

  it('an encrypted vars file is copied byte for byte beside the written inventory, never opened; validate opens it with the password', async () => {
    const cwd = withAnsibleFixture();
    const vault = encryptVault('backend_db_password: s3cret-import\n', 'pw');
    writeFileSync(join(cwd, 'ansible/group_vars/backend.yml'), vault);
    const r = await cli(['inventory', 'import', 'ansible/hosts.ini', '-o', 'inventory/imported.yml'], { cwd });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      'encrypted vars files copied as they are (1): validate and plan open them with the vault password\n  ansible/group_vars/backend.yml -> inventory/group_vars/backend/backend.yml',
    );
    expect(readFileSync(join(cwd, 'inventory/group_vars/backend/backend.yml'), 'utf8')).toBe(vault);
    expect(r.stdout + r.stderr + readFileSync(join(cwd, 'inventory/imported.yml'), 'utf8')).not.toContain('s3cret');
    writeFileSync(join(cwd, 'pw'), 'pw\n');
    const validate = await cli(['validate', 'imported', '--vault-password-file', 'pw'], { cwd });
    expect(validate.stderr).toBe('');
    expect(validate.code).toBe(0);
    // Without -o there is nowhere to put it: listed, exit 2.
    const printed = await cli(['inventory', 'import', 'ansible/hosts.ini'], { cwd });
    expect(printed.code).toBe(2);
    expect(printed.stderr).toMatch(
      /ansible\/group_vars\/backend\.yml: group backend: an ansible-vault encrypted vars file: give -o/,
    );
  });

  it('!vault values nested in a YAML inventory or a vars file come over encrypted, and open with the password', async () => {
    const cwd = withAnsibleFixture();
    const block = (value: string, indent: string) => inlineVaultBlock(value, 'pw', indent);
    writeFileSync(
      join(cwd, 'ansible/vaulted.yml'),
      `all:\n  vars:\n    greeting: hi\n    db_password: !vault |\n${block('s3cret-one', '      ')}\n  hosts:\n    web1: { ansible_host: 10.0.0.1, ansible_user: root }\n`,
    );
    mkdirSync(join(cwd, 'ansible/gv2'));
    mkdirSync(join(cwd, 'ansible/hv2'));
    writeFileSync(join(cwd, 'ansible/gv2/all.yml'), `mail:\n  api_key: !vault |\n${block('s3cret-two', '    ')}\n`);
    const r = await cli(
      [
        'inventory',
        'import',
        'ansible/vaulted.yml',
        '--group-vars',
        'ansible/gv2',
        '--host-vars',
        'ansible/hv2',
        '-o',
        'inventory/v.yml',
      ],
      { cwd },
    );
    expect(r.stdout).toContain('!vault values carried over as they are (2)');
    expect(r.code).toBe(0);
    const written = readFileSync(join(cwd, 'inventory/v.yml'), 'utf8');
    expect(written).not.toMatch(/s3cret|text:|line:/);
    writeFileSync(join(cwd, 'pw'), 'pw\n');
    const validate = await cli(['validate', 'v', '--vault-password-file', 'pw'], { cwd });
    expect(validate.code, validate.stderr).toBe(0);
  });

  it('output paths that cannot be written are usage errors before anything is written', async () => {
    const cwd = withAnsibleFixture();
    writeFileSync(join(cwd, 'ansible/group_vars/backend.yml'), encryptVault('x: 1\n', 'pw'));
    const noDir = await cli(['inventory', 'import', 'ansible/hosts.ini', '-o', 'nodir/prod.yml'], { cwd });
    expect(noDir.stderr).toMatch(/-o nodir\/prod\.yml: nodir is not a directory \(create it first\)/);
    const isDir = await cli(['inventory', 'import', 'ansible/hosts.ini', '-o', 'inventory', '--force'], { cwd });
    expect(isDir.stderr).toMatch(/-o inventory is a directory/);
    writeFileSync(join(cwd, 'inventory/group_vars'), 'not a folder');
    const blocked = await cli(['inventory', 'import', 'ansible/hosts.ini', '-o', 'inventory/p.yml'], { cwd });
    expect(blocked.stderr).toMatch(
      /inventory\/group_vars is not a directory: ansible\/group_vars\/backend\.yml cannot be copied/,
    );
    for (const r of [noDir, isDir, blocked]) {
      expect(r.code).toBe(1);
      expect(r.stderr).not.toMatch(/internal error|^\s+at /m);
    }
    expect(existsSync(join(cwd, 'inventory/p.yml'))).toBe(false);
  });

  it('never replaces an existing file without --force; a missing file is exit 1 naming it', async () => {
    const cwd = withAnsibleFixture();
    const exists = await cli(['inventory', 'import', 'ansible/hosts.ini', '-o', 'inventory/id_test'], { cwd });
    expect(exists.code).toBe(1);
    expect(exists.stderr).toMatch(/inventory\/id_test exists: not overwritten \(--force replaces it\)/);
    expect(readFileSync(join(cwd, 'inventory/id_test'), 'utf8')).toMatch(/PRIVATE KEY/);
    const missing = await cli(['inventory', 'import', 'ansible/nope.ini'], { cwd });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/ansible\/nope\.ini: cannot read Ansible inventory: file not found/);
    expect(missing.stderr).not.toMatch(/^\s+at /m);
  });

  it('without -o prints the inventory on stdout and the report on stderr', async () => {
    const cwd = withAnsibleFixture();
    const r = await cli(['inventory', 'import', 'ansible/hosts.yml'], { cwd });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^# Imported from ansible\/hosts\.yml/);
    expect(r.stdout).toContain('frontend2:\n    address: 10.0.0.12\n    port: 2222');
    expect(r.stderr).toContain('5 hosts, 5 groups');
  });
});

describe('Ansible inventory syntax', () => {
  it('host ranges expand like Ansible (width kept, letters, stride, several ranges)', () => {
    expect(expandHostPattern('web[01:03]')).toEqual(['web01', 'web02', 'web03']);
    expect(expandHostPattern('db-[a:c].x')).toEqual(['db-a.x', 'db-b.x', 'db-c.x']);
    expect(expandHostPattern('n[1:7:3]')).toEqual(['n1', 'n4', 'n7']);
    expect(expandHostPattern('r[1:2]c[1:2]')).toEqual(['r1c1', 'r1c2', 'r2c1', 'r2c2']);
    expect(expandHostPattern('plain')).toEqual(['plain']);
    expect(expandHostPattern('bad[1:x]')).toBeUndefined();
    expect(expandHostPattern('bad[3:1]')).toBeUndefined();
  });

  it("values read as Python literals, as Ansible's INI plugin does", () => {
    expect(pythonLiteral('80').value).toBe(80);
    expect(pythonLiteral("'80'").value).toBe('80');
    expect(pythonLiteral('True').value).toBe(true);
    expect(pythonLiteral('true').value).toBe('true');
    expect(pythonLiteral('yes').value).toBe('yes');
    expect(pythonLiteral('0755').value).toBe('0755');
    expect(pythonLiteral('1.5').value).toBe(1.5);
    expect(pythonLiteral('["a", 1]').value).toEqual(['a', 1]);
    expect(pythonLiteral("['a']")).toEqual({ value: "['a']", literal: false });
  });

  it('host lines split like shlex: quotes group words, # starts a comment', () => {
    expect(shellWords('web1 a="x y" b=\'z\' # note')).toEqual(['web1', 'a=x y', 'b=z']);
    expect(shellWords('web1 a="open')).toBeUndefined();
    const inv = parseIniInventory('top ansible_host=1.2.3.4\n[g]\nh:2200 k=v\n', 'x.ini');
    expect(inv.groups.get('ungrouped')?.hosts.get('top')).toEqual({ ansible_host: '1.2.3.4' });
    expect(inv.groups.get('g')?.hosts.get('h')).toEqual({ k: 'v', ansible_port: 2200 });
  });
});
