import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';

/**
 * The ACME account key's JWK thumbprint (RFC 7638, SHA-256, base64url), the second half of every
 * HTTP-01 key authorization (`<token>.<thumbprint>`, RFC 8555 8.1). haproxy answers challenges
 * with it, so the frontend that gets the CA's request needs no file from the one that asked.
 * RSA only: that is what dehydrated (Debian 12) signs with. Errors never quote the key.
 */
export function acmeThumbprint(pem: unknown): string {
  if (typeof pem !== 'string' || !pem.includes('-----BEGIN'))
    throw new Error('acmeThumbprint: the account key must be a PEM private key');
  let jwk: { kty?: string; n?: string; e?: string };
  try {
    jwk = createPublicKey(createPrivateKey(pem)).export({ format: 'jwk' });
  } catch {
    throw new Error('acmeThumbprint: the account key is not a readable PEM private key');
  }
  if (jwk.kty !== 'RSA' || !jwk.n || !jwk.e)
    throw new Error(
      `acmeThumbprint: the account key must be an RSA key (dehydrated signs with RSA), got ${jwk.kty ?? 'an unknown type'}`,
    );
  // The required members only, in lexicographic order, no whitespace (RFC 7638 3.2).
  const canonical = `{"e":"${jwk.e}","kty":"RSA","n":"${jwk.n}"}`;
  return createHash('sha256').update(canonical).digest('base64url');
}
