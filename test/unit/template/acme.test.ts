import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { acmeThumbprint } from '../../../src/template/acme.js';
import { dnsName } from '../../../src/template/encoders.js';
import { evaluateWhen } from '../../../src/engine/conditions.js';
import { renderInline } from '../../../src/template/render.js';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
  .privateKey.export({ type: 'pkcs1', format: 'pem' })
  .toString();

/** The thumbprint as dehydrated 0.7 computes it (bash + openssl), the client the role runs. */
function dehydratedThumbprint(pem: string): string {
  const script = `
urlbase64() { openssl base64 -e | tr -d '\\n\\r' | sed -r -e 's:=*$::g' -e 'y:+/:-_:'; }
hex2bin() { local hex; hex="$(cat)"; [ $(( \${#hex} % 2 )) -eq 1 ] && hex="0\${hex}"; printf -- "\${hex}" | sed -e 's/\\(..\\)/\\\\x\\1/g' | xargs -0 printf --; }
k=/dev/stdin; pem="$(cat)"
e="$(printf '%x' "$(printf '%s\\n' "$pem" | openssl rsa -noout -text | awk '/publicExponent/ {print $2}')" | hex2bin | urlbase64)"
n="$(printf '%s\\n' "$pem" | openssl rsa -noout -modulus | cut -d'=' -f2 | hex2bin | urlbase64)"
printf '{"e":"%s","kty":"RSA","n":"%s"}' "$e" "$n" | openssl dgst -sha256 -binary | urlbase64`;
  return execFileSync('bash', ['-c', script], { input: pem }).toString();
}

describe('acmeThumbprint', () => {
  it('is the RFC 7638 thumbprint dehydrated signs challenges with (bash + openssl agree)', () => {
    const t = acmeThumbprint(rsa);
    expect(t).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(t).toBe(dehydratedThumbprint(rsa));
  });

  it('reads PKCS#8 too, and the same key gives the same thumbprint', () => {
    const pkcs8 = execFileSync('openssl', ['pkey'], { input: rsa }).toString();
    expect(pkcs8).toContain('BEGIN PRIVATE KEY');
    expect(acmeThumbprint(pkcs8)).toBe(acmeThumbprint(rsa));
  });

  it('refuses an EC key, a non-PEM and a broken PEM without quoting them', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    expect(() => acmeThumbprint(ec)).toThrow(/must be an RSA key.*got EC/);
    expect(() => acmeThumbprint('s3cret')).toThrow(/must be a PEM private key/);
    expect(() => acmeThumbprint(undefined)).toThrow(/must be a PEM private key/);
    const broken = '-----BEGIN RSA PRIVATE KEY-----\ns3cretAAAA\n-----END RSA PRIVATE KEY-----\n';
    expect(() => acmeThumbprint(broken)).toThrow(/not a readable PEM private key/);
    try {
      acmeThumbprint(broken);
    } catch (err) {
      expect((err as Error).message).not.toContain('s3cret');
    }
  });

  it('is a template helper', () => {
    expect(renderInline('{{acmeThumbprint k}}', { k: rsa }).text).toBe(acmeThumbprint(rsa));
  });
});

describe('dnsName', () => {
  it('passes DNS names as they are', () => {
    for (const n of ['kanka.test', 'www.kanka.io', 'a', 'xn--bcher-kva.example', 'a-1.b2.c'])
      expect(dnsName(n)).toBe(n);
  });

  it.each([
    ['*.kanka.io', /wildcard name needs a DNS-01 challenge/],
    ['', /1 to 253 characters, this one 0/],
    [`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}`, /this one 255/],
    ['kanka.test > alias', /label 2 is not/],
    ['-kanka.test', /label 1 is not/],
    ['kanka-.test', /label 1 is not/],
    ['kanka..test', /label 2 is not/],
    [`${'a'.repeat(64)}.test`, /label 1 is not/],
    ['kanka.test\n', /label 2 is not/],
    ['ka$nka.test', /label 1 is not/],
    [['kanka.test'], /expected a string or a number, got a list/],
  ])('refuses %j', (value, message) => {
    expect(() => dnsName(value)).toThrow(message);
  });
});

describe('and / or / not see an empty list as false (acme_names: [] turns ACME off)', () => {
  const when = (expr: string, ctx: Record<string, unknown>) => evaluateWhen(expr, ctx);
  it.each([
    ['not acme_names', { acme_names: [] }, true],
    ['not acme_names', { acme_names: ['kanka.test'] }, false],
    ['and acme_names acme_ca_bundle', { acme_names: [], acme_ca_bundle: 'PEM' }, false],
    ['and acme_names acme_ca_bundle', { acme_names: ['kanka.test'], acme_ca_bundle: 'PEM' }, true],
    ['and acme_names acme_ca_bundle', { acme_names: ['kanka.test'], acme_ca_bundle: '' }, false],
    ['or acme_names x', { acme_names: [], x: '' }, false],
    ['or acme_names x', { acme_names: [], x: 'y' }, true],
    ['acme_names', { acme_names: [] }, false],
  ])('%s with %j', (expr, ctx, expected) => {
    expect(when(expr, ctx)).toBe(expected);
  });
});
