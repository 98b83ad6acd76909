/**
 * The fleet's secrets for the Kanka site: a self-signed TLS certificate and random passwords,
 * encrypted like production's (ansible-vault format) with a password kept next to the inventory.
 * Made once; kept across `up`/`down` so passwords do not churn (made again when the generator
 * changes: SECRETS_GENERATION).
 *
 * Every password is hostile on purpose: it holds each character some format on the way treats
 * specially (shell, .env, SQL, MariaDB option files, redis.conf, Python, systemd), so the site
 * converging proves the roles encode every secret for the file it lands in.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decryptVault, encryptVault } from '../../src/secrets/vault-format.js';
import { writeFileAtomic } from './fsutil.js';

export const SITE_SECRETS_FILE = 'secrets.yml';
export const VAULT_PASSWORD_FILE = 'vault-password';
/** Bumped when the secrets' shape changes: older secrets are then made again. */
const SECRETS_GENERATION = 'hostile-passwords-1';
const GENERATION_FILE = 'secrets-generation';

function selfSignedPem(names: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'kanka-tls-'));
  try {
    const san = names.map((n) => (/^\d+\.\d+\.\d+\.\d+$/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '3650',
        '-subj',
        '/CN=kanka.test',
        '-addext',
        `subjectAltName=${san}`,
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    return readFileSync(join(dir, 'cert.pem'), 'utf8') + readFileSync(join(dir, 'key.pem'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const password = () => randomBytes(18).toString('base64url');

/**
 * A random password with `"`, `'`, `\`, `$`, a backtick, `;`, `#`, spaces, `%`, `${...}` and a
 * trailing backslash around random letters.
 */
export const HOSTILE_CHARACTERS = ['"', "'", '\\', '$', '`', ';', '#', ' ', '%'];
export function hostilePassword(): string {
  return `${randomBytes(9).toString('base64url')} "q' \\\\d $HOME \`id\`; #c \${PATH} %n%% ${randomBytes(6).toString('hex')}\\`;
}

export function ensureSiteSecrets(inventoryDir: string, addresses: string[]): void {
  const passwordFile = join(inventoryDir, VAULT_PASSWORD_FILE);
  const secretsFile = join(inventoryDir, SITE_SECRETS_FILE);
  const generationFile = join(inventoryDir, GENERATION_FILE);
  const generation = existsSync(generationFile) ? readFileSync(generationFile, 'utf8').trim() : '';
  if (existsSync(passwordFile) && existsSync(secretsFile) && generation === SECRETS_GENERATION) {
    addMissingSecrets(secretsFile, readFileSync(passwordFile, 'utf8').trim());
    return;
  }
  const vaultPassword = password();
  const pem = selfSignedPem(['kanka.test', 'localhost', ...addresses]);
  const yaml = [
    `tls_pem: |\n${pem
      .trimEnd()
      .split('\n')
      .map((l) => `  ${l}`)
      .join('\n')}`,
    // JSON strings are YAML double-quoted scalars: the values arrive as they are.
    `db_password: ${JSON.stringify(hostilePassword())}`,
    `replication_password: ${JSON.stringify(hostilePassword())}`,
    `redis_password: ${JSON.stringify(hostilePassword())}`,
    `thumbor_security_key: ${JSON.stringify(hostilePassword())}`,
    `s3_access_key: ${JSON.stringify(hostilePassword())}`,
    `s3_secret_key: ${JSON.stringify(hostilePassword())}`,
    `sentry_dsn: "https://${randomBytes(8).toString('hex')}@sentry.invalid/1"`,
    backupSshKeyYaml(),
    '',
  ].join('\n');
  writeFileAtomic(secretsFile, encryptVault(yaml, vaultPassword));
  writeFileAtomic(passwordFile, `${vaultPassword}\n`, 0o600);
  writeFileAtomic(generationFile, `${SECRETS_GENERATION}\n`);
}

/** The mariadb-backup role's copy key: an OpenSSH ed25519 private key, as a YAML block. */
function backupSshKeyYaml(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kanka-backup-key-'));
  try {
    execFileSync(
      'ssh-keygen',
      ['-q', '-t', 'ed25519', '-N', '', '-C', 'kanka-mariadb-backup', '-f', join(dir, 'key')],
      { stdio: 'ignore' },
    );
    const key = readFileSync(join(dir, 'key'), 'utf8');
    return `backup_ssh_key: |\n${key
      .trimEnd()
      .split('\n')
      .map((l) => `  ${l}`)
      .join('\n')}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Secrets added to the generator since a fleet's vault was made are added to that vault, the
 * others kept: making every secret again would change the database passwords under a running
 * replica.
 */
function addMissingSecrets(secretsFile: string, vaultPassword: string): void {
  const plain = decryptVault(readFileSync(secretsFile), vaultPassword, secretsFile).toString('utf8');
  if (/^backup_ssh_key:/m.test(plain)) return;
  writeFileAtomic(secretsFile, encryptVault(`${plain.trimEnd()}\n${backupSshKeyYaml()}\n`, vaultPassword));
}
