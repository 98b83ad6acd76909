import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fleetPublicKey, fleetResetHost, sshToHost } from '../fleet/index.js';
import { fixtures, fleetOrSkip, inventoryVariant, kanka, VAULT_PASSWORD } from './support.js';

const { fleet, reason } = fleetOrSkip();
const playbook = join(fixtures, 'playbooks', 'modules.yml');
const SECRETS = { stats_password: 'stats-Pw-0v3rSSH', db_password: 'db-Pw-k4nka-e2e' };
const env = { KANKA_VAULT_PASSWORD: VAULT_PASSWORD };

interface JsonReport {
  exitCode: number;
  hosts: Array<{
    host: string;
    roundTrips: number;
    tasks: Array<{ key: string; name: string; status: string; changes: Array<{ action: string; subject: string }> }>;
  }>;
}

async function sh(host: string, command: string): Promise<string> {
  if (!fleet) throw new Error('no fleet');
  const r = await sshToHost(fleet, host, command);
  if (r.code !== 0) throw new Error(`${host}: ${command}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/**
 * What changed, by host, task and subject. Not by action: a file the plan saw absent may have
 * been created meanwhile by an earlier task's package (haproxy ships a haproxy.cfg), so the
 * plan's "create" is applied as an "update" to the same content.
 */
function changeSet(report: JsonReport, statuses: string[]): string[] {
  return report.hosts
    .flatMap((h) =>
      h.tasks
        .filter((t) => statuses.includes(t.status))
        .flatMap((t) => t.changes.map((c) => `${h.host} ${t.key} ${c.subject}`)),
    )
    .sort();
}

describe.skipIf(!fleet)(
  `modules, handlers, validation and secrets on a bare fleet host${reason ? ` (skipped: ${reason})` : ''}`,
  () => {
    let inventory = '';
    const run = (cmd: string, inv: string, ...extra: string[]) =>
      kanka([cmd, inv, '--playbook', playbook, ...extra], { env });
    const outputs: string[] = [];

    beforeAll(async () => {
      if (!fleet) return;
      await fleetResetHost('backend1');
      inventory = inventoryVariant(fleet, { extraVars: { deploy_key: fleetPublicKey().trim() }, secrets: SECRETS });
    });

    it('on a bare host, apply makes exactly the changes plan announced (tasks waiting on earlier ones say so)', async () => {
      const plan = await run('plan', inventory, '--json', '--verbose');
      outputs.push(plan.stdout, plan.stderr);
      expect(plan.code, plan.stderr + plan.stdout.slice(0, 4000)).toBe(2);
      const planned = JSON.parse(plan.stdout) as JsonReport;
      const deferred = planned.hosts[0]?.tasks.filter((t) => t.status === 'deferred').map((t) => t.name);
      expect(deferred).toEqual(
        expect.arrayContaining([
          'haproxy running at boot',
          'mariadb running',
          'kanka database',
          'kanka user, only from the other backend',
        ]),
      );
      const human = await run('plan', inventory);
      outputs.push(human.stdout, human.stderr);
      expect(human.stdout).toContain('after "kanka group"');

      const apply = await run('apply', inventory, '--yes', '--json', '--verbose');
      outputs.push(apply.stdout, apply.stderr);
      expect(apply.code, apply.stdout.slice(0, 3000) + apply.stderr).toBe(0);
      const applied = JSON.parse(apply.stdout) as JsonReport;
      const deferredKeys = new Set(planned.hosts[0]?.tasks.filter((t) => t.status === 'deferred').map((t) => t.key));
      const appliedAnnounced = changeSet(
        {
          ...applied,
          hosts: applied.hosts.map((h) => ({ ...h, tasks: h.tasks.filter((t) => !deferredKeys.has(t.key)) })),
        },
        ['changed'],
      );
      expect(appliedAnnounced).toEqual(changeSet(planned, ['pending']));
      expect(changeSet(planned, ['pending']).length).toBeGreaterThanOrEqual(8);
    });

    it('plan right after: exit 0, at most 3 round trips', async () => {
      const r = await run('plan', inventory, '--json');
      expect(r.code, r.stderr + r.stdout.slice(0, 2000)).toBe(0);
      expect((JSON.parse(r.stdout) as JsonReport).hosts[0]?.roundTrips).toBeLessThanOrEqual(3);
    });

    it('the host really is in that state', async () => {
      expect(await sh('backend1', 'id -nG deploy')).toBe('kanka adm\n');
      expect(await sh('backend1', 'getent group kanka | cut -d: -f3')).toMatch(/^\d{3}\n$/);
      expect(await sh('backend1', 'cat ~deploy/.ssh/authorized_keys')).toBe(`${fleetPublicKey().trim()}\n`);
      expect(await sh('backend1', "stat -c '%a %U' ~deploy/.ssh ~deploy/.ssh/authorized_keys")).toBe(
        '700 deploy\n600 deploy\n',
      );
      expect(await sh('backend1', 'systemctl is-active haproxy; systemctl is-enabled haproxy')).toBe(
        'active\nenabled\n',
      );
      expect(await sh('backend1', "stat -c '%a %U %G' /etc/haproxy/haproxy.cfg")).toBe('640 root haproxy\n');
      expect(await sh('backend1', 'grep -c "stats auth admin:" /etc/haproxy/haproxy.cfg')).toBe('1\n');
      expect(await sh('backend1', 'grep ^KANKA_ENV= /etc/environment')).toBe('KANKA_ENV=kanka\n');
      const address = fleet?.hosts.find((h) => h.name === 'backend2')?.address;
      expect(
        await sh('backend1', `mysql -N -B -e "SELECT CONCAT(User,'@',Host) FROM mysql.user WHERE User='kanka'"`),
      ).toBe(`kanka@${address}\n`);
      expect(await sh('backend1', `mysql -N -B -e "SHOW GRANTS FOR 'kanka'@'${address}'" | tail -1`)).toMatch(
        /GRANT ALL PRIVILEGES ON `kanka`\.\* TO `kanka`@/,
      );
    });

    it('a changed template notifies its handler, which runs once', async () => {
      const changed = inventoryVariant(fleet!, {
        extraVars: { deploy_key: fleetPublicKey().trim(), haproxy_port: '8081' },
        secrets: SECRETS,
      });
      const r = await run('apply', changed, '--yes');
      outputs.push(r.stdout, r.stderr);
      expect(r.code, r.stdout).toBe(0);
      // The template reads a secret (the stats password): its diff says what changed, never the content.
      expect(r.stdout).toMatch(/~ update \/etc\/haproxy\/haproxy\.cfg.*\n\s+\(sensitive content: 2 lines changed\)/);
      expect(r.stdout).not.toContain('bind *:8081');
      expect(r.stdout).toMatch(/> run\s+haproxy\.service\s+reload.*\[e2e-web handler\] reload haproxy/);
      expect(await sh('backend1', 'ss -ltn | grep -c ":8081 "')).toBe('1\n');
      await run('apply', inventory, '--yes');
    });

    it('a template that fails its validator leaves the old file byte for byte and haproxy running; exit 3 with the validator output', async () => {
      const before = await sh('backend1', 'sha256sum /etc/haproxy/haproxy.cfg');
      const broken = inventoryVariant(fleet!, {
        extraVars: { deploy_key: fleetPublicKey().trim(), haproxy_extra: '    this-is-not-a-keyword on' },
        secrets: SECRETS,
      });
      const r = await run('apply', broken, '--yes');
      outputs.push(r.stdout, r.stderr);
      expect(r.code).toBe(3);
      expect(r.stdout).toContain('validation failed, the file was not installed');
      expect(r.stdout).toMatch(/this-is-not-a-keyword/);
      expect(await sh('backend1', 'sha256sum /etc/haproxy/haproxy.cfg')).toBe(before);
      expect(await sh('backend1', 'systemctl is-active haproxy')).toBe('active\n');
      expect(await sh('backend1', 'ls -A /etc/haproxy')).not.toContain('.kanka-tmp');
    });

    it('a template with an undefined variable fails before any host is contacted, naming file and line', async () => {
      const noSecrets = inventoryVariant(fleet!, { extraVars: { deploy_key: 'ssh-ed25519 AAAA x' } });
      const r = await kanka(['plan', noSecrets, '--playbook', playbook]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /roles\/e2e-web\/templates\/haproxy\.cfg\.hbs:17:\d+: unknown variable "secrets\.stats_password"|unknown variable "stats_password"/,
      );
      expect(r.stderr).toContain('no host was contacted');
    });

    it('no secret value appears in any output of plan or apply, human or --json, --verbose included', () => {
      const all = outputs.join('\n');
      expect(all.length).toBeGreaterThan(1000);
      for (const value of Object.values(SECRETS)) expect(all).not.toContain(value);
      // Kept out where they were read (sensitive marking), not by the output-wide masker.
      expect(all).toContain('(sensitive');
      expect(all).not.toContain('<secret>');
    });
  },
);
