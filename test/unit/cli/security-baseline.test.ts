import { describe, expect, it } from 'vitest';
import { cli } from '../../support/cli.js';
import { projectDir } from '../../support/project.js';

/** An inventory (name, top-level vars, host lines) for a project whose role reads ssh_allowed_networks like role base. */
function project(opts: { name?: string; vars?: string; hostVars?: string; jump?: string; defaults?: string }): string {
  return projectDir({
    'inventory/test.yml': [
      ...(opts.name ? [`name: ${opts.name}`] : []),
      'ssh:',
      '  key_file: id_test',
      ...(opts.jump ? [`  jump: { address: ${opts.jump} }`] : []),
      `vars: { ${opts.vars ?? ''} }`,
      'groups: { web: {} }',
      'hosts:',
      '  web1: { address: 10.9.9.1, groups: [web] }',
      `  web2: { address: 10.9.9.2, groups: [web]${opts.hostVars ? `, vars: { ${opts.hostVars} }` : ''} }`,
      '',
    ].join('\n'),
    'roles/base/defaults.yml': opts.defaults ?? 'ssh_allowed_networks: []\n',
    'roles/base/tasks.yml':
      '- name: firewall\n  copy: { dest: /etc/x, content: "{{ join ssh_allowed_networks \\",\\" }}\\n" }\n',
  });
}

const WARNING =
  /^warning: SSH is open to any address on 2 hosts web1, web2 of the production inventory "prod": set ssh_allowed_networks to the admin networks \(role base, docs\/roles\.md\)$/m;

describe('validate: SSH open to any address in production', () => {
  it('an inventory named prod with ssh_allowed_networks empty: a warning, exit 0', async () => {
    const r = await cli(['validate', 'test'], { cwd: project({ name: 'prod' }) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/valid \(2 hosts, 1 group\)/);
    expect(r.stdout).toMatch(WARNING);
    expect(r.connected).toEqual([]);
  });

  it('--json lists it under warnings', async () => {
    const r = await cli(['validate', 'test', '--json'], { cwd: project({ name: 'prod' }) });
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as { valid: boolean; warnings: string[] };
    expect(json.valid).toBe(true);
    expect(json.warnings).toHaveLength(1);
    expect(json.warnings[0]).toMatch(/^SSH is open to any address on 2 hosts/);
  });

  it('only the hosts still open are named (host vars override the inventory)', async () => {
    const r = await cli(['validate', 'test'], {
      cwd: project({
        name: 'production',
        vars: 'ssh_allowed_networks: []',
        hostVars: 'ssh_allowed_networks: [192.0.2.0/24]',
      }),
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^warning: SSH is open to any address on host web1 of the production inventory "production"/m,
    );
  });

  it('`production: true` in the vars makes any inventory production; `production: false` silences a prod name', async () => {
    expect((await cli(['validate', 'test'], { cwd: project({ vars: 'production: true' }) })).stdout).toMatch(
      /^warning: SSH is open to any address on 2 hosts web1, web2 of the production inventory "test"/m,
    );
    expect(
      (await cli(['validate', 'test'], { cwd: project({ name: 'prod', vars: 'production: false' }) })).stdout,
    ).not.toContain('warning:');
  });

  it('no warning with admin networks set, or for a non-production inventory', async () => {
    const closed = await cli(['validate', 'test'], {
      cwd: project({ name: 'prod', vars: 'ssh_allowed_networks: [192.0.2.0/24, "2001:db8::/32"]' }),
    });
    expect(closed.code).toBe(0);
    expect(closed.stdout).not.toContain('warning:');
    const staging = await cli(['validate', 'test'], { cwd: project({ name: 'staging' }) });
    expect(staging.stdout).not.toContain('warning:');
  });

  it('networks that leave out the jump host: a warning (the next run could not connect)', async () => {
    const r = await cli(['validate', 'test'], {
      cwd: project({ vars: 'ssh_allowed_networks: [192.0.2.0/24]', jump: '198.51.100.5' }),
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^warning: ssh_allowed_networks of web1, web2 leaves out the jump host 198\.51\.100\.5 kanka-infra connects through/m,
    );
    const inside = await cli(['validate', 'test'], {
      cwd: project({ vars: 'ssh_allowed_networks: [198.51.100.0/24]', jump: '198.51.100.5' }),
    });
    expect(inside.stdout).not.toContain('warning:');
  });
});

describe('ssh_allowed_networks is typed: a bad CIDR is refused before any host is touched', () => {
  it('in the inventory vars: file, line and key path, with a hint', async () => {
    const r = await cli(['validate', 'test'], {
      cwd: project({ vars: 'ssh_allowed_networks: [10.213.7.0/24, 10.213.7.1/24]' }),
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /inventory\/test\.yml:\d+:\d+: vars\.ssh_allowed_networks\[1\]: "10\.213\.7\.1\/24" has host bits set after the \/24 prefix/,
    );
    expect(r.stderr).toMatch(/write the network, 10\.213\.7\.0\/24, or one address as 10\.213\.7\.1\/32/);
    expect(r.connected).toEqual([]);
  });

  it('in host vars, and what is not a list', async () => {
    const host = await cli(['validate', 'test'], {
      cwd: project({ hostVars: 'ssh_allowed_networks: ["0.0.0.0/0; accept"]' }),
    });
    expect(host.code).toBe(1);
    expect(host.stderr).toMatch(
      /inventory\/test\.yml:\d+:\d+: hosts\.web2\.vars\.ssh_allowed_networks\[0\]: "0\.0\.0\.0\/0; accept" is not an IP network/,
    );
    const scalar = await cli(['validate', 'test'], { cwd: project({ vars: 'ssh_allowed_networks: 10.0.0.0/8' }) });
    expect(scalar.code).toBe(1);
    expect(scalar.stderr).toMatch(/vars\.ssh_allowed_networks: .*(array|list)/i);
  });

  it('in role defaults too', async () => {
    const r = await cli(['validate', 'test'], { cwd: project({ defaults: 'ssh_allowed_networks: [office]\n' }) });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /roles\/base\/defaults\.yml:1:\d+: ssh_allowed_networks\[0\]: "office" is not an IP network/,
    );
  });
});
