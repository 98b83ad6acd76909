import { afterEach, describe, expect, it } from 'vitest';
import { cli } from '../../support/cli.js';
import { fakeFleet } from '../../support/fake-fleet.js';
import { webhookReceiver } from '../../support/webhook-receiver.js';
import { projectWithSecrets, useVaultPassword } from '../../support/vault-env.js';

/**
 * Values from the vault are sensitive where they are read, not found later by a string search:
 * every output path (plan, apply, --json, drift, the webhook body, the apply log) shows that a file
 * changed, never a line of it, whatever the secret looks like (multi-line, 2 characters, quotes,
 * backslashes) and however a template transformed it. Each test also checks that the output-wide
 * masker had nothing to do ("<secret>" never appears): the marking alone kept the values out.
 */
const PASSWORD = 'vault-pw';
const PEM = [
  '-----BEGIN PRIVATE KEY-----',
  'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7',
  'VJTUt9Us8cKjMzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dV',
  '-----END PRIVATE KEY-----',
].join('\n');
const SHORT = 'Q%';
const TRICKY = 'a"b\'c\\\\d$e`f;g#h i\nsecond-line-of-it';
const SECRETS = { tls_pem: PEM, short_pw: SHORT, tricky_pw: TRICKY };

/** Every line of every secret (a multi-line secret printed line by line is still printed). */
const secretLines = Object.values(SECRETS).flatMap((v) => v.split('\n'));

let close: (() => void) | undefined;
afterEach(() => {
  close?.();
  close = undefined;
});

async function receiver(): Promise<{ url: string; bodies: string[] }> {
  const r = await webhookReceiver();
  close = r.close;
  return r;
}

function project(tasks: string, templates: Record<string, string> = {}): string {
  const vault =
    Object.entries(SECRETS)
      .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
      .join('\n') + '\n';
  return projectWithSecrets(vault, PASSWORD, {
    'roles/base/tasks.yml': tasks,
    ...Object.fromEntries(Object.entries(templates).map(([name, text]) => [`roles/base/templates/${name}`, text])),
  });
}

function expectNoSecret(text: string, where: string): void {
  for (const line of secretLines)
    expect(text, `${where} shows a line of a secret: ${JSON.stringify(line)}`).not.toContain(line);
  for (const line of secretLines)
    expect(text, `${where} shows a secret as JSON spells it`).not.toContain(JSON.stringify(line).slice(1, -1));
  expect(text, `${where}: the output-wide masker had to act`).not.toContain('<secret>');
}

describe('sensitive values', () => {
  useVaultPassword(PASSWORD);

  const tasks = [
    '- name: tls key',
    '  template: { src: haproxy.pem.hbs, dest: /etc/haproxy.pem, mode: "0644" }',
    '- name: transformed',
    '  template: { src: app.env.hbs, dest: /etc/app.env }',
    '- name: short inline',
    '  copy: { dest: /etc/short.conf, content: "user=app\\npassword={{ secrets.short_pw }}\\n" }',
    '- name: a private file',
    '  copy: { dest: /etc/private.conf, content: "new content\\n", mode: "0600" }',
    '- name: a no_log task',
    '  command: { run: "touch /srv/flag", creates: /srv/flag }',
    '  sensitive: true',
    '',
  ].join('\n');
  const templates = {
    'haproxy.pem.hbs': 'cert\n{{ secrets.tls_pem }}\n',
    'app.env.hbs':
      'A={{upper secrets.tricky_pw}}\nB={{lower secrets.tls_pem}}\nC={{indent secrets.tls_pem 4}}\nD={{concat "x" secrets.short_pw}}\n',
  };

  it('plan, --json, apply, drift, the webhook body and the apply log show no line of any secret', async () => {
    const cwd = project(tasks, templates);
    const f = fakeFleet((_, h) =>
      h.put('/etc/private.conf', { content: 'old private line with a token tok-123\n', mode: '0600' }),
    );
    const plan = await cli(['plan', 'test', '--verbose'], { cwd, connect: f.connect });
    expect(plan.code).toBe(2);
    expectNoSecret(plan.stdout + plan.stderr, 'plan');
    expect(plan.stdout).toMatch(/\+ create \/etc\/haproxy\.pem[^\n]*\n\s+\(sensitive content: 5 lines changed\)/);
    expect(plan.stdout).toMatch(/\+ create \/etc\/app\.env[^\n]*\n\s+\(sensitive content: \d+ lines changed/);
    // The old on-host content of a private file is never shown, nor the new one.
    expect(plan.stdout).not.toContain('tok-123');
    expect(plan.stdout).not.toContain('new content');
    expect(plan.stdout).toMatch(/~ update \/etc\/private\.conf[^\n]*\n\s+\(sensitive content: 2 lines changed\)/);
    expect(plan.stdout).toContain('(sensitive) run');
    expect(plan.stdout).not.toContain('touch /srv/flag');

    const json = await cli(['plan', 'test', '--json', '--verbose'], { cwd, connect: f.connect });
    expectNoSecret(json.stdout + json.stderr, 'plan --json');
    const doc = JSON.parse(json.stdout) as {
      hosts: Array<{ tasks: Array<{ name: string; changes: Array<{ diff?: string; sensitive?: boolean }> }> }>;
    };
    const pem = doc.hosts[0]?.tasks.find((t) => t.name === 'tls key')?.changes[0];
    expect(pem?.sensitive).toBe(true);
    expect(pem?.diff).toMatch(/^\(sensitive content: 5 lines changed/);

    const apply = await cli(['apply', 'test', '--yes', '--verbose'], { cwd, connect: f.connect });
    expect(apply.code).toBe(0);
    expectNoSecret(apply.stdout + apply.stderr, 'apply');
    // The host got the real values.
    const onHost = f.hosts.get('web1')?.files.get('/etc/haproxy.pem');
    expect(onHost?.type === 'file' && onHost.content.toString()).toBe(`cert\n${PEM}\n`);
    const log = f.hosts.get('web1')?.files.get('/var/lib/kanka-infra/apply.log');
    expect(log?.type).toBe('file');
    expectNoSecret(log?.type === 'file' ? log.content.toString() : '', 'the apply log');

    // A hand edit of the key file: drift says it changed, in text, JSON and the webhook.
    f.hosts.get('web1')?.put('/etc/haproxy.pem', { content: `cert\n${PEM}\nhand edit\n` });
    const hook = await receiver();
    const drift = await cli(['drift', 'test', '--webhook', hook.url], { cwd, connect: f.connect });
    expect(drift.code).toBe(2);
    expectNoSecret(drift.stdout + drift.stderr, 'drift');
    expect(drift.stdout).toMatch(/~ update \/etc\/haproxy\.pem[^\n]*\n\s+\(sensitive content: 1 line changed/);
    const driftJson = await cli(['drift', 'test', '--json'], { cwd, connect: f.connect });
    expectNoSecret(driftJson.stdout, 'drift --json');
    expect(hook.bodies).toHaveLength(1);
    expectNoSecret(hook.bodies.join('\n'), 'the webhook body');
  });

  it('a secret in a command argument is masked there, the rest of the command stays readable', async () => {
    const cwd = project(
      '- name: set it\n  command: { run: "printf %s {{ secrets.short_pw }} > /srv/pw", creates: /srv/pw }\n',
    );
    const f = fakeFleet();
    const plan = await cli(['plan', 'test'], { cwd, connect: f.connect });
    expectNoSecret(plan.stdout + plan.stderr, 'plan');
    expect(plan.stdout).toContain('> run    printf %s (sensitive) > /srv/pw');
  });

  it('an error from a template that read a secret does not quote it', async () => {
    const cwd = project('- name: bad\n  template: { src: bad.hbs, dest: /etc/bad }\n', {
      'bad.hbs': '{{add secrets.tricky_pw 1}}\n',
    });
    const r = await cli(['validate', 'test'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad\.hbs/);
    expectNoSecret(r.stdout + r.stderr, 'validate');
  });
});
