import { describe, expect, it } from 'vitest';
import { PENDING_FILE } from '../../../src/engine/pending-handlers.js';
import { FakeHost } from '../../support/fake-host/index.js';
import type { ConnectionTarget } from '../../../src/transport/transport.js';
import { cli } from '../../support/cli.js';
import { projectDir } from '../../support/project.js';

const inventory =
  'ssh: { key_file: id_test }\ngroups: { web: {} }\nhosts:\n  web1: { address: 10.0.0.1, groups: [web] }\n';

function project(tasks: string): string {
  return projectDir({
    'inventory/test.yml': inventory,
    'roles/base/tasks.yml': tasks,
    'roles/base/handlers.yml': '- name: reload nginx\n  service: { name: nginx, state: reloaded }\n',
  });
}

function fakeWeb1(setup: (h: FakeHost) => void = () => {}) {
  const h = FakeHost.with({ '/etc/nginx': { type: 'directory' } });
  h.units.set('nginx.service', { active: 'active', unitFile: 'enabled' });
  setup(h);
  return { host: h, connect: async (_t: ConnectionTarget) => h };
}

const reloads = (h: FakeHost) => h.executed.filter((c) => c === 'systemctl reload nginx.service').length;

const twoConfigs = [
  '- name: site a',
  '  copy: { dest: /etc/nginx/a.conf, content: "a\\n" }',
  '  notify: reload nginx',
  '- name: site b',
  '  copy: { dest: /etc/nginx/b.conf, content: "b\\n" }',
  '  notify: reload nginx',
  '',
].join('\n');

describe('handlers', () => {
  it('run once after the role when notifying tasks changed, and the plan says so', async () => {
    const cwd = project(twoConfigs);
    const { host, connect } = fakeWeb1();
    const plan = await cli(['plan', 'test'], { cwd, connect });
    expect(plan.stdout).toContain('[base handler] reload nginx');
    expect(plan.stdout).toContain('notified by "site a"');
    const apply = await cli(['apply', 'test', '--yes'], { cwd, connect });
    expect(apply.code).toBe(0);
    expect(reloads(host)).toBe(1);
    expect(host.files.has(PENDING_FILE)).toBe(false);
  });

  it('do not run when nothing changed', async () => {
    const cwd = project(twoConfigs);
    const { host, connect } = fakeWeb1();
    await cli(['apply', 'test', '--yes'], { cwd, connect });
    const again = await cli(['apply', 'test', '--yes'], { cwd, connect });
    expect(again.code).toBe(0);
    expect(reloads(host)).toBe(1);
  });

  it('survive a failed run: recorded on the host, shown by plan, run by the next apply', async () => {
    const tasks = `${twoConfigs}- name: a step that fails this time\n  command: { run: flaky-step, creates: /etc/nginx/flaky.done }\n`;
    const cwd = project(tasks);
    let failing = true;
    const { host, connect } = fakeWeb1((h) => {
      h.command = (cmd) => (cmd === 'flaky-step' && failing ? 1 : 0);
    });
    const failed = await cli(['apply', 'test', '--yes'], { cwd, connect });
    expect(failed.code).toBe(3);
    expect(reloads(host)).toBe(0);
    expect(failed.stdout).toContain('- not run  [base handler] reload nginx');
    const pending = host.files.get(PENDING_FILE);
    expect(pending?.type === 'file' && pending.content.toString()).toBe('base\treload nginx\n');

    failing = false;
    host.put('/etc/nginx/flaky.done', { content: '' });
    const plan = await cli(['plan', 'test'], { cwd, connect });
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain('pending from an earlier run that did not finish');

    const apply = await cli(['apply', 'test', '--yes'], { cwd, connect });
    expect(apply.code).toBe(0);
    expect(reloads(host)).toBe(1);
    expect(host.files.has(PENDING_FILE)).toBe(false);
    expect((await cli(['plan', 'test'], { cwd, connect })).code).toBe(0);
  });

  it('with a selection: a selected task notifies its handler; a handler left pending runs whatever is selected', async () => {
    const cwd = project(`${twoConfigs}- name: motd\n  copy: { dest: /etc/motd, content: "hi\\n" }\n  tags: [motd]\n`);
    const { host, connect } = fakeWeb1();
    const started = await cli(['apply', 'test', '--yes', '--start-at-task', 'site b'], { cwd, connect });
    expect(started.code).toBe(0);
    expect(host.files.has('/etc/nginx/a.conf')).toBe(false);
    expect(reloads(host)).toBe(1);

    // A reload left pending by a run that stopped (as the host records it), then a run of other tasks only.
    host.put(PENDING_FILE, { content: 'base\treload nginx\n' });
    const other = await cli(['apply', 'test', '--yes', '--tags', 'motd'], { cwd, connect });
    expect(other.code).toBe(0);
    expect(host.files.has('/etc/nginx/a.conf')).toBe(false);
    expect(reloads(host)).toBe(2);
    expect(host.files.has(PENDING_FILE)).toBe(false);
  });
});
