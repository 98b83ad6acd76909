import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../../support/cli.js';
import { fakeFleet } from '../../support/fake-fleet.js';
import { projectWithSecrets, useVaultPassword } from '../../support/vault-env.js';

/**
 * What you approve is what runs: `plan --out` saves a plan, `apply FILE` applies exactly it or
 * nothing; interactive apply checks the plan it showed the same way, under the locks.
 */
const PASSWORD = 'vault-pw';
const DB_PASSWORD = 'pw"with\\quote';

function project(): string {
  return projectWithSecrets(`db_password: ${JSON.stringify(DB_PASSWORD)}\n`, PASSWORD, {
    'roles/base/tasks.yml': [
      '- name: motd',
      '  copy: { dest: /etc/motd, content: "{{ greeting }} {{ host.name }}\\n" }',
      '- name: app env',
      '  copy: { dest: /etc/app.env, content: "DB_PASSWORD={{ secrets.db_password }}\\n", mode: "0640" }',
      '',
    ].join('\n'),
  });
}

const motd = (f: ReturnType<typeof fakeFleet>, host: string): string | undefined => {
  const e = f.hosts.get(host)?.files.get('/etc/motd');
  return e?.type === 'file' ? e.content.toString() : undefined;
};

describe('saved plans', () => {
  useVaultPassword(PASSWORD);

  it('plan --out writes a plan with no secret value; apply FILE applies exactly it, without a question; a second apply of it refuses', async () => {
    const cwd = project();
    const f = fakeFleet();
    const plan = await cli(['plan', 'test', '--out', 'test.plan'], { cwd, connect: f.connect });
    expect(plan.code).toBe(2);
    expect(plan.stderr).toContain('plan: saved to');
    const text = readFileSync(join(cwd, 'test.plan'), 'utf8');
    expect(text).not.toContain('with\\\\quote');
    expect(text).not.toContain('pw"with');
    expect(JSON.parse(text)).toMatchObject({ format: 'kanka-infra-plan', version: 2, env: 'test' });

    // Off a terminal, no --yes: a saved plan was reviewed when it was made.
    const apply = await cli(['apply', 'test.plan'], { cwd, connect: f.connect });
    expect(apply.code, apply.stderr).toBe(0);
    expect(motd(f, 'web1')).toBe('hello web1\n');
    const env = f.hosts.get('db1')?.files.get('/etc/app.env');
    expect(env?.type === 'file' && env.content.toString()).toBe(`DB_PASSWORD=${DB_PASSWORD}\n`);

    // Applied: the hosts are no longer in the state it was made on.
    const again = await cli(['apply', 'test.plan'], { cwd, connect: f.connect });
    expect(again.code).toBe(3);
    expect(again.stderr).toMatch(/Refused: nothing was changed/);
    expect(again.stderr).toMatch(/web1 {2}"motd": planned create \/etc\/motd.*; now nothing to do/);
  });

  it('a hand change between plan --out and apply FILE: refused with the host and item, nothing changed anywhere', async () => {
    const cwd = project();
    const f = fakeFleet();
    expect((await cli(['plan', 'test', '--out', 'test.plan'], { cwd, connect: f.connect })).code).toBe(2);
    f.hosts.get('db1')?.put('/etc/motd', { content: 'hand edit\n' });
    const apply = await cli(['apply', 'test.plan'], { cwd, connect: f.connect });
    expect(apply.code).toBe(3);
    expect(apply.stderr).toMatch(/db1 {2}"motd": planned create \/etc\/motd; now update \/etc\/motd/);
    expect(motd(f, 'web1')).toBeUndefined();
    expect(motd(f, 'db1')).toBe('hand edit\n');
    expect(f.hosts.get('web1')?.files.get('/etc/app.env')).toBeUndefined();
    expect(f.hosts.get('db1')?.files.get('/var/lib/kanka-infra/lock')).toBeUndefined();
  });

  it('the selection is saved with the plan: apply FILE runs only the tasks planned with --start-at-task', async () => {
    const cwd = project();
    const f = fakeFleet();
    const plan = await cli(['plan', 'test', '--out', 'test.plan', '--start-at-task', 'app env', '--json'], {
      cwd,
      connect: f.connect,
    });
    expect(plan.code).toBe(2);
    const saved = JSON.parse(readFileSync(join(cwd, 'test.plan'), 'utf8')) as {
      startAtTask?: string;
      approval: Record<string, Record<string, unknown>>;
    };
    expect(saved.startAtTask).toBe('app env');
    expect(Object.keys(saved.approval.web1 ?? {})).toEqual(['base/app env']);
    expect((await cli(['apply', 'test.plan'], { cwd, connect: f.connect })).code).toBe(0);
    expect(motd(f, 'web1')).toBeUndefined();
    expect(f.hosts.get('web1')?.files.get('/etc/app.env')?.type).toBe('file');
  });

  it('a changed configuration, or --limit with a plan file: exit 1 before any connection', async () => {
    const cwd = project();
    const f = fakeFleet();
    expect((await cli(['plan', 'test', '--out', 'test.plan'], { cwd, connect: f.connect })).code).toBe(2);
    const limited = await cli(['apply', 'test.plan', '--limit', 'web1'], { cwd, connect: f.connect });
    expect(limited.code).toBe(1);
    expect(limited.stderr).toMatch(/keeps the selection it was made with/);
    const skipping = await cli(['apply', 'test.plan', '--skip-tags', 'base', '--start-at-task', 'motd'], {
      cwd,
      connect: f.connect,
    });
    expect(skipping.code).toBe(1);
    expect(skipping.stderr).toMatch(/apply .*test\.plan without --skip-tags, --start-at-task/);
    // A plan saved by an earlier version named tasks by position: refused, with what to do.
    const saved = JSON.parse(readFileSync(join(cwd, 'test.plan'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(cwd, 'old.plan'), JSON.stringify({ ...saved, version: 1 }, null, 2));
    const old = await cli(['apply', 'old.plan'], { cwd, connect: f.connect });
    expect(old.code).toBe(1);
    expect(old.stderr).toMatch(/saved by an earlier kanka-infra \(plan format 1.*hint: plan again/s);
    expect(old.connected).toEqual([]);
    writeFileSync(join(cwd, 'roles/base/defaults.yml'), 'extra: 1\n');
    const r = await cli(['apply', 'test.plan'], { cwd, connect: f.connect });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the configuration changed since .*test\.plan was made/);
    expect(r.connected).toEqual([]);
    expect(motd(f, 'web1')).toBeUndefined();
  });

  it('interactive apply (here --yes) checks under the locks that the hosts are as planned', async () => {
    const cwd = project();
    let probes = 0;
    const f = fakeFleet((name, h) => {
      if (name !== 'web1') return;
      const probe = h.probe.bind(h);
      // Someone edits the file right after the first plan read it, before the locks are taken.
      h.probe = async (facts) => {
        const out = await probe(facts);
        if (++probes === 1) h.put('/etc/motd', { content: 'edited meanwhile\n' });
        return out;
      };
    });
    const r = await cli(['apply', 'test', '--yes'], { cwd, connect: f.connect });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/not as the plan shown said/);
    expect(r.stderr).toMatch(/web1 {2}"motd": planned create \/etc\/motd; now update \/etc\/motd/);
    expect(motd(f, 'web1')).toBe('edited meanwhile\n');
    expect(motd(f, 'db1')).toBeUndefined();
    // Without an edit it goes through, and plan afterwards is empty.
    const ok = await cli(['apply', 'test', '--yes'], { cwd, connect: f.connect });
    expect(ok.code, ok.stderr).toBe(0);
    expect((await cli(['plan', 'test'], { cwd, connect: f.connect })).code).toBe(0);
  });
});
