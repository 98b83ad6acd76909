/** The security baseline's templates (roles base and haproxy) rendered with their defaults and with overrides. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { renderTemplate } from '../../../src/template/render.js';

const roles = join(import.meta.dirname, '..', '..', '..', 'roles');
const hosts = {
  frontend1: { name: 'frontend1', address: '10.0.0.11', groups: ['frontend'], vars: {} },
  frontend2: { name: 'frontend2', address: '10.0.0.12', groups: ['frontend'], vars: {} },
};

function render(role: string, template: string, vars: Record<string, unknown> = {}): string {
  const defaults = parse(readFileSync(join(roles, role, 'defaults.yml'), 'utf8')) as Record<string, unknown>;
  const context = {
    ...defaults,
    varnish_port: 6081,
    ...vars,
    env: 'test',
    host: hosts.frontend1,
    hosts,
    secrets: {},
    facts: {},
  };
  return renderTemplate(join(roles, role, 'templates', template), context).text;
}

describe('base nftables.conf: SSH from the admin networks', () => {
  it('default (empty list): SSH from anywhere, as before', () => {
    const out = render('base', 'nftables.conf.hbs');
    expect(out).toContain('\t\ttcp dport 22 accept comment "ssh"\n');
    expect(out).not.toContain('ssh from admin networks');
    expect(out).not.toMatch(/saddr .* tcp dport 22 /);
  });

  it('IPv4 and IPv6 networks in their own rules, canonical, nested ones left out; no rule from anywhere', () => {
    const out = render('base', 'nftables.conf.hbs', {
      ssh_allowed_networks: ['10.1.0.0/16', '10.0.0.0/8', '203.0.113.7', '2001:DB8:0::/32'],
      ssh_port: 2222,
    });
    expect(out).toContain(
      '\t\tip saddr { 10.0.0.0/8, 203.0.113.7/32 } tcp dport 2222 accept comment "ssh from admin networks"\n',
    );
    expect(out).toContain('\t\tip6 saddr { 2001:db8::/32 } tcp dport 2222 accept comment "ssh from admin networks"\n');
    expect(out).not.toMatch(/^\t\ttcp dport 2222 accept/m);
  });

  it('only IPv6 networks: no IPv4 rule at all (IPv4 SSH refused)', () => {
    const out = render('base', 'nftables.conf.hbs', { ssh_allowed_networks: ['2001:db8::/32'] });
    expect(out).not.toMatch(/\bip saddr .* tcp dport 22/);
    expect(out).toMatch(/ip6 saddr \{ 2001:db8::\/32 \} tcp dport 22 accept/);
  });

  it('a value that is not a network cannot reach the file (rules injected through it are refused)', () => {
    expect(() =>
      render('base', 'nftables.conf.hbs', {
        ssh_allowed_networks: ['0.0.0.0/0 } tcp dport 3306 accept; ip saddr { 10.0.0.0/8'],
      }),
    ).toThrow(/nftables\.conf\.hbs.*is not an IP network/);
  });
});

describe('base: sysctl, apt and journald files', () => {
  it('sysctl.d: one key = value line per setting; a key with an option prefix is refused', () => {
    const out = render('base', 'sysctl.conf.hbs');
    expect(out).toContain('\nnet.ipv4.tcp_syncookies = 1\n');
    expect(out).toContain('\nkernel.kptr_restrict = 1\n');
    expect(
      render('base', 'sysctl.conf.hbs', { sysctl_settings: { 'net.ipv4.ip_local_port_range': '32768 60999' } }),
    ).toContain('\nnet.ipv4.ip_local_port_range = 32768 60999\n');
    expect(() => render('base', 'sysctl.conf.hbs', { sysctl_settings: { '-kernel.sysrq': 0 } })).toThrow(
      /sysctlKey: a sysctl key is letters/,
    );
    expect(() =>
      render('base', 'sysctl.conf.hbs', { sysctl_settings: { 'kernel.sysrq': '0\nkernel.modules_disabled = 1' } }),
    ).toThrow(/sysctlValue: the value has a newline/);
  });

  it('unattended-upgrades: security origins only, reboot off; the switch turns the daily run off', () => {
    const conf = render('base', 'unattended-upgrades.hbs');
    expect(conf).toContain(
      '#clear Unattended-Upgrade::Origins-Pattern;\nUnattended-Upgrade::Origins-Pattern {\n\t"origin=Debian,codename=${distro_codename}-security,label=Debian-Security";\n};\n',
    );
    expect(conf).toContain('Unattended-Upgrade::Automatic-Reboot "false";\n');
    expect(render('base', 'unattended-upgrades.hbs', { unattended_upgrades_reboot: true })).toContain(
      'Unattended-Upgrade::Automatic-Reboot "true";\n',
    );
    expect(render('base', 'auto-upgrades.hbs')).toContain('APT::Periodic::Unattended-Upgrade "1";\n');
    expect(render('base', 'auto-upgrades.hbs', { unattended_upgrades: false })).toContain(
      'APT::Periodic::Unattended-Upgrade "0";\n',
    );
    expect(() =>
      render('base', 'unattended-upgrades.hbs', { unattended_upgrades_origins: ['origin=Debian";};Evil::X "1'] }),
    ).toThrow(/aptConf: the value has a double quote/);
  });

  it('journald: the limits as single systemd values', () => {
    expect(render('base', 'journald.conf.hbs', { journald_max_use: '500M' })).toContain(
      '[Journal]\nSystemMaxUse=500M\nMaxRetentionSec=1month\n',
    );
  });
});

describe('haproxy: HSTS and the TLS policy', () => {
  it('default: intermediate (TLS 1.2+, ECDHE AEAD ciphers, no tickets) and HSTS without includeSubDomains', () => {
    const out = render('haproxy', 'haproxy.cfg.hbs');
    const ciphers = /\tssl-default-bind-ciphers (\S+)\n/.exec(out)?.[1]?.split(':') ?? [];
    expect(ciphers).toHaveLength(6);
    // Forward secrecy (ECDHE) and AEAD only: no RSA key exchange, DHE, CBC or SHA-1.
    for (const c of ciphers)
      expect(c).toMatch(/^ECDHE-(ECDSA|RSA)-(AES128-GCM-SHA256|AES256-GCM-SHA384|CHACHA20-POLY1305)$/);
    expect(out).toContain(
      '\tssl-default-bind-ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256\n',
    );
    expect(out).toContain('\tssl-default-bind-options prefer-client-ciphers ssl-min-ver TLSv1.2 no-tls-tickets\n');
    expect(out).toContain('\thttp-after-response set-header Strict-Transport-Security max-age=63072000\n');
    // Only in the https frontend.
    const http = out.slice(out.indexOf('frontend http\n'), out.indexOf('frontend https\n'));
    expect(http).not.toContain('Strict-Transport-Security');
  });

  it('modern, includeSubDomains, another max-age', () => {
    const out = render('haproxy', 'haproxy.cfg.hbs', {
      tls_policy: 'modern',
      hsts_include_subdomains: true,
      hsts_max_age: 31536000,
    });
    expect(out).toContain('ssl-min-ver TLSv1.3 no-tls-tickets\n');
    expect(out).toContain(
      "\thttp-after-response set-header Strict-Transport-Security 'max-age=31536000; includeSubDomains'\n",
    );
  });

  it('an unknown policy or a max-age that is not a number fails the render', () => {
    expect(() => render('haproxy', 'haproxy.cfg.hbs', { tls_policy: 'old' })).toThrow(
      /pick: "old" is not one of intermediate, modern/,
    );
    expect(() => render('haproxy', 'haproxy.cfg.hbs', { hsts_max_age: '1 year' })).toThrow(/expected a number/);
  });
});
