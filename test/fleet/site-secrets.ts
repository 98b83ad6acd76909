/**
 * The fleet's secrets for the Kanka site: a self-signed TLS certificate and random passwords,
 * encrypted like production's (ansible-vault format) with a password kept next to the inventory.
 * Made once; kept across `up`/`down` so passwords do not churn.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encryptVault } from '../../src/secrets/vault-format.js';
import { writeFileAtomic } from './fsutil.js';

export const SITE_SECRETS_FILE = 'secrets.yml';
export const VAULT_PASSWORD_FILE = 'vault-password';

function selfSignedPem(names: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'kanka-tls-'));
  try {
    const san = names.map((n) => (/^\d+\.\d+\.\d+\.\d+$/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '3650', '-subj', '/CN=kanka.test', '-addext', `subjectAltName=${san}`, '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    return readFileSync(join(dir, 'cert.pem'), 'utf8') + readFileSync(join(dir, 'key.pem'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const password = () => randomBytes(18).toString('base64url');

export function ensureSiteSecrets(inventoryDir: string, addresses: string[]): void {
  const passwordFile = join(inventoryDir, VAULT_PASSWORD_FILE);
  const secretsFile = join(inventoryDir, SITE_SECRETS_FILE);
  if (existsSync(passwordFile) && existsSync(secretsFile)) return;
  const vaultPassword = password();
  const pem = selfSignedPem(['kanka.test', 'localhost', ...addresses]);
  const yaml = [
    `tls_pem: |\n${pem.trimEnd().split('\n').map((l) => `  ${l}`).join('\n')}`,
    `db_password: ${password()}`,
    `replication_password: ${password()}`,
    `redis_password: ${password()}`,
    `thumbor_security_key: ${password()}`,
    `s3_access_key: FLEETACCESSKEY`,
    `s3_secret_key: ${password()}`,
    `sentry_dsn: "https://${randomBytes(8).toString('hex')}@sentry.invalid/1"`,
    '',
  ].join('\n');
  writeFileAtomic(secretsFile, encryptVault(yaml, vaultPassword));
  writeFileAtomic(passwordFile, `${vaultPassword}\n`, 0o600);
}
