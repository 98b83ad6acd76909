/** The haproxy role's ACME templates rendered, and the challenge answer served by haproxy itself. */
import { spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { acmeThumbprint } from '../../../src/template/acme.js';
import { renderTemplate } from '../../../src/template/render.js';

const roles = join(import.meta.dirname, '..', '..', '..', 'roles');
const hosts = {
  frontend1: { name: 'frontend1', address: '10.0.0.11', groups: ['frontend'], vars: {} },
  frontend2: { name: 'frontend2', address: '10.0.0.12', groups: ['frontend'], vars: {} },
};
const accountKey = generateKeyPairSync('rsa', { modulusLength: 2048 })
  .privateKey.export({ type: 'pkcs1', format: 'pem' })
  .toString();
const ACME = { acme_names: ['kanka.test', 'www.kanka.test'] };

function render(template: string, vars: Record<string, unknown> = {}): string {
  const defaults = parse(readFileSync(join(roles, 'haproxy', 'defaults.yml'), 'utf8')) as Record<string, unknown>;
  const context = {
    ...defaults,
    varnish_port: 6081,
    ...vars,
    env: 'test',
    host: hosts.frontend1,
    hosts,
    secrets: { acme_account_key: accountKey },
    facts: {},
  };
  return renderTemplate(join(roles, 'haproxy', 'templates', template), context).text;
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function scratch(): string {
  const d = mkdtempSync(join(tmpdir(), 'kanka-acme-'));
  dirs.push(d);
  return d;
}

describe('haproxy.cfg with and without ACME', () => {
  it('ACME off (the default): the vault certificate only, no challenge answer, no account key needed', () => {
    const defaults = parse(readFileSync(join(roles, 'haproxy', 'defaults.yml'), 'utf8')) as Record<string, unknown>;
    const out = renderTemplate(join(roles, 'haproxy', 'templates', 'haproxy.cfg.hbs'), {
      ...defaults,
      varnish_port: 6081,
      env: 'test',
      host: hosts.frontend1,
      hosts,
      secrets: {},
      facts: {},
    }).text;
    expect(out).toContain('\tbind :443 ssl crt /etc/haproxy/certs/kanka.pem alpn h2,http/1.1\n');
    expect(out).not.toContain('acme');
  });

  it('ACME on: the ACME directory first, the vault certificate as the fallback; the challenge answered before the redirect', () => {
    const out = render('haproxy.cfg.hbs', ACME);
    expect(out).toContain(
      '\tbind :443 ssl crt /etc/haproxy/certs/acme/ crt /etc/haproxy/certs/kanka.pem alpn h2,http/1.1\n',
    );
    const http = out.slice(out.indexOf('frontend http'), out.indexOf('frontend https'));
    expect(http.indexOf('lf-file')).toBeGreaterThan(0);
    expect(http.indexOf('lf-file')).toBeLessThan(http.indexOf('redirect scheme https'));
    expect(http).toContain(
      'lf-file /etc/haproxy/acme-challenge.lf if { path_reg ^/\\.well-known/acme-challenge/[A-Za-z0-9_-]+$ }',
    );
    // The config itself reads no secret (its diffs stay visible); the answer's file does.
    expect(out).not.toContain(acmeThumbprint(accountKey));
    expect(render('acme-challenge.lf.hbs', ACME)).toBe(`%[path,field(-1,/)].${acmeThumbprint(accountKey)}`);
  });

  it('ACME on without the account key in secrets: an error naming it', () => {
    const defaults = parse(readFileSync(join(roles, 'haproxy', 'defaults.yml'), 'utf8')) as Record<string, unknown>;
    expect(() =>
      renderTemplate(join(roles, 'haproxy', 'templates', 'acme-challenge.lf.hbs'), {
        ...defaults,
        ...ACME,
        varnish_port: 6081,
        env: 'test',
        host: hosts.frontend1,
        hosts,
        secrets: {},
        facts: {},
      }),
    ).toThrow(/acme_account_key/);
  });
});

describe.skipIf(!process.env['CI'] && spawnSync('haproxy', ['-v']).status !== 0)(
  'the challenge answer, served by haproxy',
  () => {
    it('answers <token>.<thumbprint> for a token, redirects anything else to https', async () => {
      const dir = scratch();
      const out = render('haproxy.cfg.hbs', { ...ACME, acme_challenge_format_file: join(dir, 'acme-challenge.lf') });
      writeFileSync(join(dir, 'acme-challenge.lf'), render('acme-challenge.lf.hbs', ACME));
      const line = out.split('\n').find((l) => l.includes('acme-challenge')) ?? '';
      const sock = join(dir, 'h.sock');
      writeFileSync(
        join(dir, 'h.cfg'),
        `global\n\tmaxconn 20\ndefaults\n\tmode http\n\ttimeout connect 1s\n\ttimeout client 5s\n\ttimeout server 5s\nfrontend http\n\tbind unix@${sock}\n${line}\n\thttp-request redirect scheme https code 301\n`,
      );
      const check = spawnSync('haproxy', ['-c', '-q', '-f', join(dir, 'h.cfg')], { encoding: 'utf8' });
      expect(check.status, check.stderr).toBe(0);
      const server = spawn('haproxy', ['-db', '-f', join(dir, 'h.cfg')], { stdio: 'ignore' });
      try {
        const get = (path: string) =>
          new Promise<{ status: number; body: string }>((resolve, reject) => {
            const req = request({ socketPath: sock, path, headers: { host: 'kanka.test' } }, (res) => {
              let body = '';
              res.on('data', (c: Buffer) => {
                body += c.toString();
              });
              res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
            });
            req.on('error', reject);
            req.end();
          });
        let first: { status: number; body: string } | undefined;
        for (let i = 0; i < 50 && !first; i++) {
          first = await get('/.well-known/acme-challenge/Ab_c-9').catch(async () => {
            await new Promise((r) => setTimeout(r, 100));
            return undefined;
          });
        }
        expect(first).toEqual({ status: 200, body: `Ab_c-9.${acmeThumbprint(accountKey)}` });
        expect((await get('/.well-known/acme-challenge/a.b')).status).toBe(301);
        expect((await get('/.well-known/acme-challenge/')).status).toBe(301);
        expect((await get('/x/.well-known/acme-challenge/abc')).status).toBe(301);
      } finally {
        server.kill();
      }
    });
  },
);

describe('dehydrated settings and names', () => {
  it('domains.txt: the names on one line (one certificate)', () => {
    expect(
      render('domains.txt.hbs', ACME)
        .split('\n')
        .filter((l) => !l.startsWith('#')),
    ).toEqual(['kanka.test www.kanka.test', '']);
  });

  it('domains.txt refuses a name dehydrated would read as something else', () => {
    expect(() => render('domains.txt.hbs', { acme_names: ['kanka.test > other'] })).toThrow(/dnsName/);
    expect(() => render('domains.txt.hbs', { acme_names: ['*.kanka.test'] })).toThrow(/wildcard/);
  });

  it('the conf.d file is bash that reads back each value exactly', () => {
    const email = `ops+"$(id)"'\`x\`@kanka.test`;
    const url = 'https://10.0.0.1:14000/dir?a=1&b=$x';
    const conf = render('dehydrated.sh.hbs', {
      ...ACME,
      acme_email: email,
      acme_directory_url: url,
      acme_ca_bundle: '-----BEGIN CERTIFICATE-----',
    });
    const dir = scratch();
    writeFileSync(join(dir, 'kanka.sh'), conf);
    const r = spawnSync(
      'bash',
      [
        '-c',
        `set -eu; . ${dir}/kanka.sh; printf '%s\\n' "$CA" "$CONTACT_EMAIL" "$RENEW_DAYS" "$CHALLENGETYPE" "$CURL_CA_BUNDLE"; bash -c 'printf "%s\\n" "$KANKA_ACME_CERTS_DIR"'`,
      ],
      { encoding: 'utf8' },
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`${url}\n${email}\n30\nhttp-01\n/etc/dehydrated/kanka-ca.pem\n/etc/haproxy/certs/acme\n`);
    expect(render('dehydrated.sh.hbs', ACME)).not.toContain('CURL_CA_BUNDLE');
  });
});
