import { describe, expect, it } from 'vitest';
import { modules } from '../../../src/modules/registry.js';
import { cli } from '../../support/cli.js';
import { projectDir } from '../../support/project.js';

describe('offline commands', () => {
  it('validate: exit 0 with counts, no connection', async () => {
    const r = await cli(['validate', 'test'], { cwd: projectDir() });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/valid \(2 hosts, 2 groups\)/);
    expect(r.stdout).toMatch(/1 play, 1 role, 4 tasks on 2 hosts/);
    expect(r.connected).toEqual([]);
  });

  it('validate: exit 1 on a broken role', async () => {
    const r = await cli(['validate', 'test'], {
      cwd: projectDir({ 'roles/base/tasks.yml': '- name: x\n  file: { path: /a, mode: "rwx" }\n' }),
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/roles\/base\/tasks\.yml:2:21: \[0\]\.file\.mode: file: must be an octal mode/);
  });

  it('validate: an unknown variable in a template is named with the template file and line, offline', async () => {
    const r = await cli(['validate', 'test'], {
      cwd: projectDir({
        'roles/base/tasks.yml':
          '- name: redis config\n  template: { src: redis.conf.hbs, dest: /etc/redis/redis.conf }\n',
        'roles/base/templates/redis.conf.hbs': 'bind {{ host.address }}\nport {{ redis_port }}\n',
      }),
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /roles\/base\/templates\/redis\.conf\.hbs:2:\d+: unknown variable "redis_port" \(task "redis config", host web1\)/,
    );
    expect(r.connected).toEqual([]);
  });

  it('inventory: hosts, addresses, groups; --json too', async () => {
    const cwd = projectDir();
    const r = await cli(['inventory', 'test'], { cwd });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/web1\s+10\.9\.9\.1\s+root\s+web/);
    expect(r.stdout).toContain('db: db1');
    const j = JSON.parse((await cli(['inventory', 'test', '--json'], { cwd })).stdout) as {
      hosts: Array<{ name: string }>;
      groups: Record<string, string[]>;
    };
    expect(j.hosts.map((h) => h.name)).toEqual(['web1', 'db1']);
    expect(j.groups).toEqual({ web: ['web1'], db: ['db1'] });
  });

  it('schema: JSON Schema of the inventory, with descriptions and no unknown keys allowed', async () => {
    const r = await cli(['schema', 'inventory'], { cwd: projectDir() });
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as {
      properties: Record<string, { description?: string }>;
      additionalProperties: boolean;
    };
    expect(Object.keys(s.properties)).toEqual(expect.arrayContaining(['ssh', 'hosts', 'groups', 'vars']));
    expect(s.additionalProperties).toBe(false);
    const tasks = JSON.parse((await cli(['schema', 'tasks'], { cwd: projectDir() })).stdout) as {
      items: { anyOf: Array<{ properties: Record<string, unknown> }> };
    };
    expect(
      tasks.items.anyOf.map((f) =>
        Object.keys(f.properties).find((k) => !['name', 'notify', 'tags', 'when', 'sensitive', 'loop'].includes(k)),
      ),
    ).toEqual([...modules.keys()]);
    expect((await cli(['schema', 'nope'], { cwd: projectDir() })).code).toBe(1);
  });

  it('--help explains and exits 0; an unknown command exits 1', async () => {
    const r = await cli(['--help'], { cwd: projectDir() });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Exit codes:');
    expect((await cli(['plna', 'test'], { cwd: projectDir() })).code).toBe(1);
  });
});
