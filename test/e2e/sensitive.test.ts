import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sshToHost } from '../fleet/index.js';
import { webhookReceiver } from '../support/webhook-receiver.js';
import { fixtures, fleetOrSkip, inventoryVariant, kanka as run, VAULT_PASSWORD } from './support.js';

/**
 * On a real host, with a vault holding a multi-line PEM, a 2-character password and a password
 * with quotes, a backslash and a newline: plan, apply, drift --json, the webhook body and the
 * apply log on the host contain no line of any secret, and the host gets the real values.
 */
const { fleet, reason } = fleetOrSkip();
const playbook = join(fixtures, 'playbooks', 'sensitive.yml');
const HOST = 'backend1';
const PEM = [
  '-----BEGIN PRIVATE KEY-----',
  'MC4CAQAwBQYDK2VwBCIEIKanKaInFrAe2eTeStOnLyNoTaReAlKeY00',
  '-----END PRIVATE KEY-----',
].join('\n');
const SECRETS = { tls_pem: PEM, short_pw: 'Q%', tricky_pw: 'a"b\'c\\d$e`f;g#h i\nnext-line-of-it' };
const lines = Object.values(SECRETS).flatMap((v) => v.split('\n'));
const kanka = (args: string[]) => run(args, { env: { KANKA_VAULT_PASSWORD: VAULT_PASSWORD } });

async function sh(command: string): Promise<string> {
  if (!fleet) throw new Error('no fleet');
  return (await sshToHost(fleet, HOST, command, { timeoutMs: 60000 })).stdout;
}

function expectNoSecret(text: string, where: string): void {
  for (const line of lines) {
    expect(text, `${where} shows ${JSON.stringify(line)}`).not.toContain(line);
    expect(text, `${where} shows ${JSON.stringify(line)} as JSON spells it`).not.toContain(
      JSON.stringify(line).slice(1, -1),
    );
  }
}

describe.skipIf(!fleet)(`sensitive values on a fleet host${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let close: (() => void) | undefined;
  afterAll(async () => {
    close?.();
    await sh('rm -rf /etc/kanka-e2e-sensitive');
  });

  it('plan, apply, drift --json, the webhook and the apply log show no line of any secret; the host has them all', async () => {
    if (!fleet) return;
    await sh('rm -rf /etc/kanka-e2e-sensitive');
    const inv = inventoryVariant(fleet, { secrets: SECRETS });
    const args = [inv, '--playbook', playbook, '--limit', HOST];
    const outputs: Array<[string, string]> = [];
    const plan = await kanka(['plan', ...args, '--verbose']);
    expect(plan.code, plan.stdout + plan.stderr).toBe(2);
    expect(plan.stdout).toMatch(
      /\+ create \/etc\/kanka-e2e-sensitive\/tls\.pem.*\n\s+\(sensitive content: 4 lines changed\)/,
    );
    expect(plan.stdout).toContain('> run    printf %s (sensitive) > /etc/kanka-e2e-sensitive/short');
    outputs.push(['plan', plan.stdout + plan.stderr]);
    const json = await kanka(['plan', ...args, '--json']);
    outputs.push(['plan --json', json.stdout + json.stderr]);
    const apply = await kanka(['apply', ...args, '--yes', '--verbose']);
    expect(apply.code, apply.stdout.slice(-2000)).toBe(0);
    outputs.push(['apply', apply.stdout + apply.stderr]);

    // The host has the real values.
    expect(await sh('cat /etc/kanka-e2e-sensitive/tls.pem')).toBe(`# certificate and key\n${PEM}\n`);
    expect(await sh('cat /etc/kanka-e2e-sensitive/short')).toBe('Q%');
    expect(await sh('head -1 /etc/kanka-e2e-sensitive/app.env')).toBe(
      `A=${SECRETS.tricky_pw.toUpperCase().split('\n')[0]}\n`,
    );

    // A hand edit: drift names it, in JSON and in the webhook, without its content.
    await sh("sed -i 's/^# certificate and key$/# edited/' /etc/kanka-e2e-sensitive/tls.pem");
    const hook = await webhookReceiver();
    close = hook.close;
    const { url, bodies } = hook;
    const drift = await kanka(['drift', ...args, '--json', '--webhook', url]);
    expect(drift.code).toBe(2);
    expect(drift.stdout).toContain('(sensitive content: 2 lines changed');
    outputs.push(['drift --json', drift.stdout + drift.stderr]);
    expect(bodies).toHaveLength(1);
    outputs.push(['the webhook body', bodies.join('\n')]);
    outputs.push(['the apply log', await sh('cat /var/lib/kanka-infra/apply.log')]);

    for (const [where, text] of outputs) expectNoSecret(text, where);
    // Kept out where the values were read, not by the output-wide masker.
    for (const [where, text] of outputs) expect(text, where).not.toContain('<secret>');
  });
});
