/**
 * The security baseline (issue 13, part 3) on the local fleet: unattended security upgrades, SSH only
 * from the admin networks, HSTS and the TLS policy in haproxy, kernel settings, journald limits and
 * the rotation of kanka-infra's apply log.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { networksContain, parseNetwork } from '../../src/values/cidr.js';
import { httpsGet } from './http.js';
import { convergeSite, fleetOrSkip, inventoryVariant, kanka, hostShell } from './support.js';

const { fleet, reason } = fleetOrSkip();
const addr = (name: string) => fleet?.hosts.find((h) => h.name === name)?.address ?? '';
const GATEWAY = '10.213.7.1';
// The gateway (where kanka-infra and the operator connect from) and nothing else of the fleet
// (hosts are .11 and up); an IPv6 network too, so the ip6 rule is exercised.
const ADMIN_NETWORKS = ['10.213.7.0/29', '2001:db8:7::/48'];

const { sh, must } = hostShell(fleet);

/** A TCP connection from one fleet host to another: "open", or why not ("refused" when the firewall resets it). */
async function tcpFrom(host: string, to: string, port: number): Promise<string> {
  const r = await sh(host, `timeout 5 bash -c 'exec 3<>/dev/tcp/${to}/${port}' 2>&1 && echo open || echo "closed: $?"`);
  if (r.out.includes('open\n') && !r.out.includes('closed')) return 'open';
  return /Connection refused/.test(r.out) ? 'refused' : r.out.trim();
}

/** A TLS handshake from this machine with openssl s_client: exit status and what was negotiated. */
function handshake(address: string, args: string[]): { ok: boolean; protocol: string; cipher: string; out: string } {
  const r = spawnSync('openssl', ['s_client', '-connect', `${address}:443`, '-servername', 'kanka.test', ...args], {
    input: '',
    encoding: 'utf8',
    timeout: 15000,
  });
  const out = `${r.stdout}${r.stderr}`;
  const protocol = /Protocol\s*:\s*(\S+)/.exec(out)?.[1] ?? /New, (TLSv[\d.]+)/.exec(out)?.[1] ?? '';
  const cipher = /Cipher is (\S+)/.exec(out)?.[1] ?? '';
  return { ok: r.status === 0 && cipher !== '' && cipher !== '(NONE)', protocol, cipher, out };
}

describe.skipIf(!fleet)(`security baseline on the local fleet${reason ? ` (skipped: ${reason})` : ''}`, () => {
  const inventory = fleet?.inventoryFile ?? '';

  beforeAll(async () => {
    // The site converged with these roles (other sessions apply theirs in between).
    await convergeSite(inventory);
  }, 900_000);

  afterAll(async () => {
    // Back to the default (SSH from anywhere), whatever a test left behind.
    const restore = await kanka(['apply', inventory, '--yes']);
    expect(restore.code, restore.stdout.slice(-3000)).toBe(0);
  }, 600_000);

  it('after apply, plan exits 0: no changes (idempotent)', async () => {
    const plan = await kanka(['plan', inventory]);
    expect(plan.code, plan.stdout.slice(-3000)).toBe(0);
    expect(plan.stdout).toContain('Plan: no changes on 5 host(s).');
  });

  it('unattended-upgrades is installed and allows the Debian security archive only', async () => {
    for (const h of ['thumbor', 'frontend1', 'backend2']) {
      expect(await must(h, "dpkg-query -W -f '${Status}' unattended-upgrades")).toBe('install ok installed');
      // Our file is read after the package's: its list replaces (#clear) the package's stable origins.
      const patterns = await must(h, 'apt-config dump Unattended-Upgrade::Origins-Pattern');
      expect(
        patterns
          .trim()
          .split('\n')
          .filter((l) => l.includes(':: "')),
      ).toEqual([
        'Unattended-Upgrade::Origins-Pattern:: "origin=Debian,codename=${distro_codename}-security,label=Debian-Security";',
      ]);
      expect(
        await must(h, 'apt-config dump APT::Periodic::Unattended-Upgrade Unattended-Upgrade::Automatic-Reboot'),
      ).toMatch(/APT::Periodic::Unattended-Upgrade "1";\nUnattended-Upgrade::Automatic-Reboot "false";/);
    }
    const dry = await sh('frontend1', 'unattended-upgrade --dry-run --debug 2>&1');
    expect(dry.code, dry.out).toBe(0);
    // unattended-upgrades expands ${distro_codename} itself: bookworm here.
    expect(dry.out).toMatch(/Allowed origins are: origin=Debian,codename=bookworm-security,label=Debian-Security\n/);
    expect(dry.out).not.toMatch(/Allowed origins are: .*label=Debian[,\n]/);
  });

  it('https responses carry HSTS, the http redirect does not', async () => {
    const r = await httpsGet(addr('frontend1'), '/healthz');
    expect(r.status).toBe(200);
    expect(r.headers['strict-transport-security']).toBe('max-age=63072000');
    // Every https response (a 404 too); the redirect on :80 has none (HSTS over http is ignored and misleading).
    expect((await httpsGet(addr('frontend2'), '/no-such-page')).headers['strict-transport-security']).toBe(
      'max-age=63072000',
    );
    const plain = spawnSync('curl', ['-s', '-o', '/dev/null', '-D', '-', `http://${addr('frontend1')}/healthz`], {
      encoding: 'utf8',
      timeout: 10000,
    });
    expect(plain.stdout).toMatch(/^HTTP\/1\.1 301/);
    expect(plain.stdout.toLowerCase()).not.toContain('strict-transport-security');
  });

  it('TLS 1.2 and 1.3 with forward-secret AEAD ciphers work; TLS 1.1 and weak ciphers are refused', () => {
    for (const f of ['frontend1', 'frontend2']) {
      const v13 = handshake(addr(f), ['-tls1_3']);
      expect(v13.ok, v13.out).toBe(true);
      expect(v13.protocol).toBe('TLSv1.3');
      const v12 = handshake(addr(f), ['-tls1_2']);
      expect(v12.ok, v12.out).toBe(true);
      expect(v12.cipher).toMatch(/^ECDHE-(RSA|ECDSA)-(AES128-GCM-SHA256|AES256-GCM-SHA384|CHACHA20-POLY1305)$/);
      // TLS 1.1: the client must be allowed to offer it (OpenSSL 3 refuses it at its default security level).
      const v11 = handshake(addr(f), ['-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0']);
      expect(v11.ok, v11.out).toBe(false);
      // Refused by the server (its alert), not by a client that could not offer it.
      expect(v11.out).toMatch(/alert protocol version/);
      // TLS 1.2 with what intermediate leaves out: no forward secrecy (RSA key exchange), CBC, SHA-1 MACs, DHE.
      for (const weak of ['AES128-GCM-SHA256', 'ECDHE-RSA-AES128-SHA', 'AES256-SHA256', 'DHE-RSA-AES128-GCM-SHA256']) {
        const r = handshake(addr(f), ['-tls1_2', '-cipher', `${weak}:@SECLEVEL=0`]);
        expect(r.ok, `${weak}: ${r.out}`).toBe(false);
        expect(r.out, weak).toMatch(/alert handshake failure/);
      }
    }
  });

  it('kernel settings are in effect where the fleet allows; a value changed by hand is a change, set back by apply', async () => {
    const want: Record<string, string> = {
      'net.ipv4.tcp_syncookies': '1',
      'net.ipv4.conf.all.rp_filter': '2',
      'net.ipv4.conf.all.accept_redirects': '0',
      'net.ipv6.conf.all.accept_redirects': '0',
      'net.ipv4.conf.all.send_redirects': '0',
      'net.ipv4.conf.default.send_redirects': '0',
      'net.ipv4.conf.all.accept_source_route': '0',
    };
    for (const h of ['thumbor', 'backend1']) {
      const out = await must(h, `sysctl -n ${Object.keys(want).join(' ')}`);
      expect(out.trim().split('\n'), h).toEqual(Object.values(want));
      // The kernel-wide keys stay in the file for real hosts (systemd-sysctl sets them at boot);
      // in these containers /proc/sys/kernel and /proc/sys/fs are read-only, so they are skipped.
      const file = await must(h, 'cat /etc/sysctl.d/60-kanka-infra.conf');
      expect(file).toContain('kernel.kptr_restrict = 1\n');
      expect(file).toContain('fs.protected_regular = 2\n');
      const check = await sh(h, '/usr/local/lib/kanka-infra/sysctl-apply --check /etc/sysctl.d/60-kanka-infra.conf');
      expect(check.code, check.out).toBe(0);
      expect(check.out).toContain('kernel.kptr_restrict: read-only on this host (a container?), skipped');
    }
    await must('backend1', 'sysctl -q -w net.ipv4.conf.all.send_redirects=1');
    const plan = await kanka(['plan', inventory, '--limit', 'backend1']);
    expect(plan.code, plan.stdout.slice(-2000)).toBe(2);
    expect(plan.stdout).toContain('kernel settings in effect');
    const apply = await kanka(['apply', inventory, '--limit', 'backend1', '--yes']);
    expect(apply.code, apply.stdout.slice(-2000)).toBe(0);
    expect((await must('backend1', 'sysctl -n net.ipv4.conf.all.send_redirects')).trim()).toBe('0');
  });

  it('journald has its limits; the apply log rotates and kanka-infra keeps appending to the new one', async () => {
    const h = 'frontend2';
    expect(await must(h, 'cat /etc/systemd/journald.conf.d/60-kanka-infra.conf')).toMatch(
      /\[Journal\]\nSystemMaxUse=1G\nMaxRetentionSec=1month\n/,
    );
    expect((await must(h, 'systemctl is-active systemd-journald')).trim()).toBe('active');
    const parsed = await sh(h, 'logrotate -d /etc/logrotate.d/kanka-infra 2>&1');
    expect(parsed.code, parsed.out).toBe(0);
    expect(parsed.out).toContain('/var/lib/kanka-infra/apply.log');
    expect(parsed.out).not.toMatch(/error/i);
    // A forced rotation (own state file, so the daily run's state is untouched): the log moves to .1.
    const lines = Number((await must(h, 'wc -l < /var/lib/kanka-infra/apply.log')).trim());
    expect(lines).toBeGreaterThan(0);
    await must(
      h,
      'rm -f /var/lib/kanka-infra/apply.log.1 && logrotate -f -s /tmp/kanka-e2e-logrotate.state /etc/logrotate.d/kanka-infra && rm -f /tmp/kanka-e2e-logrotate.state',
    );
    expect((await must(h, 'wc -l < /var/lib/kanka-infra/apply.log.1')).trim()).toBe(String(lines));
    expect((await must(h, "stat -c '%a %U %s' /var/lib/kanka-infra/apply.log")).trim()).toBe('600 root 0');
    // An apply that changes something (it puts back the edited logrotate file) records one line in the new log.
    await must(h, "echo '# edited by hand' >> /etc/logrotate.d/kanka-infra");
    const apply = await kanka(['apply', inventory, '--limit', h, '--yes']);
    expect(apply.code, apply.stdout.slice(-2000)).toBe(0);
    expect(apply.stdout).toContain('/etc/logrotate.d/kanka-infra');
    expect(await must(h, 'cat /etc/logrotate.d/kanka-infra')).not.toContain('edited by hand');
    expect((await must(h, 'wc -l < /var/lib/kanka-infra/apply.log')).trim()).toBe('1');
  });

  describe('SSH only from the admin networks', () => {
    let restricted = '';

    beforeAll(() => {
      if (!fleet) return;
      // The premise: the admin networks hold the gateway and no fleet host.
      const nets = ADMIN_NETWORKS.map(parseNetwork).flatMap((p) => (p.ok ? [p.network] : []));
      expect(networksContain(nets, GATEWAY)).toBe(true);
      for (const h of fleet.hosts) expect(networksContain(nets, h.address), h.name).toBe(false);
      restricted = inventoryVariant(fleet, {
        transform: (t) => t.replace(/^vars:\n/m, `vars:\n  ssh_allowed_networks: ${JSON.stringify(ADMIN_NETWORKS)}\n`),
      });
    });

    it('validate accepts the networks; the fleet is not production: no warning', async () => {
      const r = await kanka(['validate', restricted]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).not.toContain('warning:');
    });

    it('applied: kanka-infra still connects from the gateway; another fleet host is refused on port 22, not on 443', async () => {
      // Before: open from another host (the test can tell open from refused).
      expect(await tcpFrom('backend1', addr('frontend1'), 22)).toBe('open');
      const apply = await kanka(['apply', restricted, '--yes']);
      expect(apply.code, apply.stdout.slice(-3000)).toBe(0);
      const rules = await must('frontend1', 'nft list chain inet filter input');
      expect(rules).toMatch(/ip saddr 10\.213\.7\.0\/29 tcp dport 22 accept comment "ssh from admin networks"/);
      expect(rules).toMatch(/ip6 saddr 2001:db8:7::\/48 tcp dport 22 accept/);
      // New connections from here (the gateway, inside the admin network): plan converged, exit 0.
      const plan = await kanka(['plan', restricted]);
      expect(plan.code, plan.stdout.slice(-3000)).toBe(0);
      expect(plan.stdout).toContain('Plan: no changes on 5 host(s).');
      for (const [from, to] of [
        ['backend1', 'frontend1'],
        ['frontend2', 'backend2'],
        ['thumbor', 'backend1'],
      ] as const) {
        expect(await tcpFrom(from, addr(to), 22), `${from} -> ${to}:22`).toBe('refused');
      }
      expect(await tcpFrom('backend1', addr('frontend1'), 443)).toBe('open');
    });

    it('the default again (empty list): SSH from anywhere', async () => {
      const apply = await kanka(['apply', inventory, '--yes']);
      expect(apply.code, apply.stdout.slice(-3000)).toBe(0);
      expect(await tcpFrom('backend1', addr('frontend1'), 22)).toBe('open');
      expect(await must('frontend1', 'nft list chain inet filter input')).toMatch(/tcp dport 22 accept comment "ssh"/);
    });
  });
});
