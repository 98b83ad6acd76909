import { describe, expect, it } from 'vitest';
import { ConfigError, type Diagnostic } from '../../../src/diagnostics/diagnostic.js';
import { loadProject } from '../../../src/config/load-project.js';
import { isDnsName } from '../../../src/values/values.js';
import { compile } from '../../../src/engine/compile.js';
import { cli } from '../../support/cli.js';
import { projectDir } from '../../support/project.js';

function problems(overrides: Record<string, string | undefined>): Diagnostic[] {
  const dir = projectDir(overrides);
  try {
    compile(loadProject({ env: 'test', projectDir: dir }));
  } catch (err) {
    if (err instanceof ConfigError) return err.diagnostics;
    throw err;
  }
  return [];
}

/** An inventory whose host web1 has these lines (YAML, indented under the host). */
function inventoryWith(hostLines: string): Record<string, string> {
  return {
    'inventory/test.yml': `ssh:\n  key_file: /k\nvars: { greeting: hi }\ngroups: { web: {} }\nhosts:\n  web1:\n${hostLines}    groups: [web]\n`,
  };
}

/** A role with one task: `module: { args }` (a YAML flow mapping). */
function taskWith(module: string, args: string): Record<string, string> {
  return { 'roles/base/tasks.yml': `- name: the task\n  ${module}: ${args}\n` };
}

describe('host addresses', () => {
  it('a list of addresses in one address is refused with the key path, line and a hint', () => {
    const ds = problems(inventoryWith('    address: "192.0.2.12, 0.0.0.0/0"\n'));
    expect(ds).toHaveLength(1);
    expect(ds[0]).toMatchObject({ path: ['hosts', 'web1', 'address'], line: 7 });
    expect(ds[0]?.message).toBe('"192.0.2.12, 0.0.0.0/0" is not an IP address or a DNS name: it contains ","');
    expect(ds[0]?.hint).toMatch(
      /one address per host: an IPv4 address .* no spaces, commas, slashes, ";" or line breaks/,
    );
  });

  it.each([
    ['10.0.0.1; rm -rf /', 'contains ";"'],
    ['10.0.0.1\\n0.0.0.0/0', 'contains a line break'],
    ['0.0.0.0/0', 'contains "/"'],
    ['web 1', 'contains a space'],
    ['-oProxyCommand=sh', 'contains "="'],
    ['-web1', 'is not an IP address or a DNS name'],
    ['192.0.2.300', 'is not an IP address or a DNS name'],
    ['web_1.example.org', 'contains "_"'],
    ['', 'is not an IP address or a DNS name'],
  ])('%j is refused (%s)', (address, why) => {
    const ds = problems(inventoryWith(`    address: "${address}"\n`));
    expect(ds.map((d) => d.path?.join('.'))).toEqual(['hosts.web1.address']);
    expect(ds[0]?.message).toContain(why);
  });

  it.each([
    '192.0.2.12',
    '2001:db8::12',
    'fe80::1%eth0',
    'web1',
    'web1.example.org',
    'db-1.internal.',
    'xn--bcher-kva.example',
  ])('%j is an address', (address) => {
    expect(problems(inventoryWith(`    address: "${address}"\n`))).toEqual([]);
  });

  it('a jump host address is checked the same way', () => {
    const jump = problems({
      'inventory/test.yml':
        'ssh:\n  key_file: /k\n  jump: { address: "bastion; id" }\nvars: { greeting: hi }\ngroups: { web: {} }\nhosts:\n  web1: { address: 10.0.0.1, groups: [web] }\n',
    });
    expect(jump.map((d) => d.path?.join('.'))).toEqual(['ssh.jump.address']);
  });

  it('DNS names: labels of letters, digits and inner "-", 63 characters each, 253 in all', () => {
    expect(isDnsName(`${'a'.repeat(63)}.example`)).toBe(true);
    expect(isDnsName(`${'a'.repeat(64)}.example`)).toBe(false);
    expect(isDnsName(`${'a.'.repeat(127)}ab`)).toBe(false);
    expect(isDnsName('web-.example')).toBe(false);
    expect(isDnsName('web..example')).toBe(false);
  });
});

describe('users, groups and ports in the inventory', () => {
  it.each([
    ['root; id', 'is not a valid user or group name'],
    ['-oProxyCommand', 'must not start with "-"'],
    ['Admin', 'is not a valid user or group name'],
    ['a'.repeat(33), 'at most 32 characters long (it has 33)'],
  ])('ssh user %j is refused (%s)', (user, why) => {
    const ds = problems({
      'inventory/test.yml': `ssh:\n  key_file: /k\n  user: "${user}"\n  sudo: true\nvars: { greeting: hi }\ngroups: { web: {} }\nhosts:\n  web1: { address: 10.0.0.1, groups: [web] }\n`,
    });
    expect(ds.map((d) => d.path?.join('.'))).toEqual(['ssh.user']);
    expect(ds[0]?.message).toContain(why);
    expect(ds[0]?.hint).toMatch(/lower-case letters, digits, "_" and "-"/);
  });

  it('a host user is a POSIX name too', () => {
    const ds = problems(inventoryWith('    address: 10.0.0.1\n    user: "deploy\\nx"\n'));
    expect(ds.map((d) => d.path?.join('.'))).toEqual(['hosts.web1.user']);
  });

  it.each([
    [0, 'must be a port from 1 to 65535'],
    [65536, 'must be a port from 1 to 65535'],
    [22.5, 'expected int, got number 22.5'],
  ])('port %j is refused', (port, why) => {
    const ds = problems(inventoryWith(`    address: 10.0.0.1\n    port: ${port}\n`));
    expect(ds.map((d) => d.path?.join('.'))).toEqual(['hosts.web1.port']);
    expect(ds[0]?.message).toContain(why);
  });
});

describe('module arguments', () => {
  it.each([
    // [module, args, key path under the task, message part, hint part]
    ['file', '{ path: /srv/a, owner: "-R" }', 'file.owner', 'must not start with "-"', 'e.g. www-data'],
    [
      'file',
      '{ path: /srv/a, group: "root:root" }',
      'file.group',
      'is not a valid user or group name',
      'at most 32 characters',
    ],
    [
      'file',
      '{ path: srv/a }',
      'file.path',
      'must be an absolute path (start with /)',
      'absolute, with no line breaks or NUL',
    ],
    ['file', '{ path: "/srv/a\\0b" }', 'file.path', 'contains a NUL byte at character 7', 'no line breaks or NUL'],
    ['file', '{ path: "/srv/a\\nb" }', 'file.path', 'contains a line break at character 7', 'no line breaks'],
    [
      'file',
      '{ path: /srv/l, state: link, target: "/a\\n/b" }',
      'file.target',
      'must be a single line',
      'becomes one line',
    ],
    ['copy', '{ dest: "/etc/x\\0", content: "x" }', 'copy.dest', 'a NUL byte', 'no line breaks or NUL'],
    [
      'copy',
      '{ dest: /etc/x, content: "x", validate: "cmp {path} /x\\0" }',
      'copy.validate',
      'must not contain a NUL byte',
      'remove the NUL',
    ],
    [
      'line',
      '{ path: /etc/x, line: "a=1\\nb=2" }',
      'line.line',
      'must be a single line, but it contains a line break at character 4',
      'e.g. PermitRootLogin no',
    ],
    ['line', '{ path: /etc/x, line: "a=1\\rb=2" }', 'line.line', 'a line break', 'becomes one line'],
    [
      'user',
      '{ name: deploy, authorized_keys: ["ssh-ed25519 AAAA me@laptop\\nssh-rsa BBBB evil@x"] }',
      'user.authorized_keys.0',
      'must be a single line',
      'becomes one line',
    ],
    ['user', '{ name: deploy, shell: bash }', 'user.shell', 'must be an absolute path', 'absolute'],
    ['user', '{ name: "-oroot" }', 'user.name', 'must not start with "-"', 'lower-case letters'],
    [
      'user',
      '{ name: deploy, groups: [sudo, "Wheel"] }',
      'user.groups.1',
      'is not a valid user or group name',
      'lower-case letters',
    ],
    ['group', '{ name: "-g0" }', 'group.name', 'must not start with "-"', 'lower-case letters'],
    ['group', `{ name: ${'g'.repeat(33)} }`, 'group.name', 'at most 32 characters', 'lower-case letters'],
    [
      'apt_source',
      '{ name: x, uri: "https://deb.example.org\\0", key_src: k.asc }',
      'apt_source.uri',
      'a NUL byte',
      'becomes one line',
    ],
    [
      'apt_source',
      '{ name: x, uri: "https://deb.example.org", suite: "bookworm\\ndeb http://evil.example bookworm", key_src: k.asc }',
      'apt_source.suite',
      'must be one word',
      'one word of the sources line',
    ],
    [
      'apt_source',
      '{ name: x, uri: "https://deb.example.org", components: ["main contrib"], key_src: k.asc }',
      'apt_source.components.0',
      'must be one word',
      'give several components as a list',
    ],
    [
      'apt_source',
      '{ name: x, uri: "https://deb.example.org", suite: "[trusted=yes]", key_src: k.asc }',
      'apt_source.suite',
      'must not start with "["',
      'one word',
    ],
    ['service', '{ name: "-H", state: started }', 'service.name', 'not starting with "-"', ''],
    ['command', '{ run: "echo \\0", always: true }', 'command.run', 'must not contain a NUL byte', 'remove the NUL'],
    ['command', '{ run: "make", creates: "relative" }', 'command.creates', 'must be an absolute path', 'absolute'],
  ])('%s %s: %s is refused', (module, args, at, message, hint) => {
    const ds = problems(taskWith(module, args));
    const d = ds.find((x) => x.path?.join('.') === `0.${at}`);
    expect(d, JSON.stringify(ds)).toBeDefined();
    expect(d?.message).toContain(message);
    expect(d?.line).toBe(2);
    if (hint) expect(d?.hint).toContain(hint);
  });

  it('values from variables are checked after rendering: a variable with a line break is caught', () => {
    const ds = problems({
      ...taskWith('line', '{ path: /etc/ssh/sshd_config, line: "AllowUsers {{ admins }}" }'),
      'roles/base/defaults.yml': 'admins: "alice\\nPermitRootLogin yes"\n',
    });
    expect(ds.map((d) => d.path?.join('.'))).toContain('0.line.line');
  });

  it('the shipped kinds of values still pass', () => {
    expect(
      problems(
        taskWith(
          'user',
          '{ name: www-data, group: www-data, groups: [adm, _ssh], shell: /usr/sbin/nologin, home: /var/www, authorized_keys: ["ssh-ed25519 AAAAC3Nz me@laptop"] }',
        ),
      ),
    ).toEqual([]);
    expect(
      problems(taskWith('file', '{ path: /etc/nginx/sites-enabled/-x, state: link, target: ../sites-available/-x }')),
    ).toEqual([]);
    expect(
      problems(
        taskWith(
          'apt_source',
          '{ name: x, uri: "https://deb.example.org/debian", suite: bookworm-backports, components: [main, non-free-firmware], key_src: k.asc }',
        ),
      ).filter((d) => !/k\.asc/.test(d.message)),
    ).toEqual([]);
  });
});

describe('through the CLI', () => {
  it('validate: a bad address exits 1 with file:line, key path and hint; no stack trace, no connection', async () => {
    const r = await cli(['validate', 'test'], {
      cwd: projectDir(inventoryWith('    address: "192.0.2.12, 0.0.0.0/0"\n')),
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /inventory\/test\.yml:7:\d+: hosts\.web1\.address: "192\.0\.2\.12, 0\.0\.0\.0\/0" is not an IP address or a DNS name: it contains ","\n {2}hint: one address per host/,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.connected).toEqual([]);
  });
});
