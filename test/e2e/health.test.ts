import { beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './http.js';
import { fleetOrSkip, inventoryVariant, kanka, hostShell, convergeSite } from './support.js';

const { fleet, reason } = fleetOrSkip();

const { must } = hostShell(fleet);

/** The Health section's line for a host, from drift's output. */
function healthLine(stdout: string, host: string): string {
  return stdout.split('\n').find((l) => l.startsWith(`  ! ${host} `)) ?? '';
}

describe.skipIf(!fleet)(`health in the nightly drift${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let inv = '';

  beforeAll(async () => {
    if (!fleet) return;
    inv = fleet.inventoryFile;
    await convergeSite(inv);
    const clean = await kanka(['drift', inv]);
    expect(clean.code, clean.stdout.slice(-3000)).toBe(0);
  }, 900_000);

  it('a stopped backend behind varnish: drift exits 2 naming the frontend and the backend', async () => {
    await must('backend1', 'systemctl stop nginx');
    try {
      await waitFor(
        'varnish to mark backend1 sick',
        async () => (await must('frontend1', 'varnishadm backend.list')).includes('sick'),
        15000,
      );
      const r = await kanka(['drift', inv]);
      expect(r.code, r.stdout.slice(-3000)).toBe(2);
      expect(healthLine(r.stdout, 'frontend1')).toMatch(
        /varnish marks 1 backend down: backend1 \(boot\.be0\): probe sick/,
      );
      // backend1's own drift: nginx is stopped (a change apply would make), not a health problem.
      expect(r.stdout).toMatch(/nginx\.service {2}inactive -> started/);
    } finally {
      await must('backend1', 'systemctl start nginx');
    }
  });

  it('a failed unit: drift exits 2 naming the host and the unit', async () => {
    await must(
      'thumbor',
      'systemd-run --unit=kanka-e2e-fails --quiet /bin/false; sleep 1; systemctl is-failed kanka-e2e-fails.service',
    );
    try {
      const r = await kanka(['drift', inv]);
      expect(r.code, r.stdout.slice(-3000)).toBe(2);
      expect(healthLine(r.stdout, 'thumbor')).toContain('failed systemd unit: kanka-e2e-fails.service');
      expect(r.stdout).toContain(
        'to fix: see why: journalctl -u kanka-e2e-fails.service on thumbor; once fixed: systemctl reset-failed',
      );
    } finally {
      await must('thumbor', 'systemctl reset-failed kanka-e2e-fails.service');
    }
  });

  it('a certificate 10 days from expiry: drift exits 2 with the days left', async () => {
    const path = '/etc/haproxy/certs/kanka.pem';
    await must(
      'frontend2',
      `cp ${path} /root/kanka.pem.e2e && openssl req -x509 -newkey rsa:2048 -nodes -days 10 -subj /CN=kanka.test -keyout /root/k.key -out /root/k.crt 2>/dev/null && cat /root/k.crt /root/k.key > ${path} && rm /root/k.key /root/k.crt`,
    );
    try {
      const r = await kanka(['drift', inv]);
      expect(r.code, r.stdout.slice(-3000)).toBe(2);
      expect(healthLine(r.stdout, 'frontend2')).toMatch(
        /the certificate in \/etc\/haproxy\/certs\/kanka\.pem \(CN ?= ?kanka\.test\) expires in (9|10) days .*limit 14 days/,
      );
    } finally {
      await must('frontend2', `cp /root/kanka.pem.e2e ${path} && rm /root/kanka.pem.e2e`);
    }
  });

  it('a disk past the threshold (the limit set below what / uses now): drift exits 2 naming the mount', async () => {
    if (!fleet) return;
    const used = Number((await must('backend2', "df -P / | awk 'NR==2 {print $5}'")).replace('%', '').trim());
    expect(used).toBeGreaterThan(1);
    const low = inventoryVariant(fleet, {
      transform: (t) => t.replace(/^vars:\n/m, `vars:\n  health_disk_max_percent: ${used - 1}\n`),
    });
    const r = await kanka(['drift', low]);
    expect(r.code, r.stdout.slice(-3000)).toBe(2);
    expect(healthLine(r.stdout, 'backend2')).toContain(`/ is ${used}% full (limit ${used - 1}%)`);
  });

  it('all clear again: drift exits 0, one round trip per host', async () => {
    await waitFor(
      'varnish to see backend1 again',
      async () => !(await must('frontend1', 'varnishadm backend.list')).includes('sick'),
      20000,
    );
    const r = await kanka(['drift', inv, '--json']);
    expect(r.code, r.stdout.slice(-3000)).toBe(0);
    const doc = JSON.parse(r.stdout) as { summary: { problems: unknown[]; maxRoundTrips: number } };
    expect(doc.summary.problems).toEqual([]);
    expect(doc.summary.maxRoundTrips).toBe(1);
  });
});
