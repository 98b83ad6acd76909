import { afterEach, beforeEach, vi } from 'vitest';
import { encryptVault } from '../../src/secrets/vault-format.js';
import { projectDir, projectFiles } from './project.js';

/** Sets KANKA_VAULT_PASSWORD for each test of the enclosing describe, and puts it back after. */
export function useVaultPassword(password: string): void {
  const saved = process.env['KANKA_VAULT_PASSWORD'];
  beforeEach(() => {
    process.env['KANKA_VAULT_PASSWORD'] = password;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env['KANKA_VAULT_PASSWORD'];
    else process.env['KANKA_VAULT_PASSWORD'] = saved;
  });
}

/** For each test of the file or describe: the vault password from the environment is `password` (none: ''). */
export function stubVaultEnv(password = ''): void {
  beforeEach(() => {
    vi.stubEnv('KANKA_VAULT_PASSWORD', password);
    vi.stubEnv('KANKA_VAULT_PASSWORD_FILE', '');
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });
}

/** The minimal test project with an encrypted secrets file (`secretsYaml`, encrypted with `password`). */
export function projectWithSecrets(
  secretsYaml: string,
  password: string,
  overrides: Record<string, string | undefined> = {},
): string {
  const base = projectFiles();
  return projectDir({
    'inventory/test.yml': base['inventory/test.yml']?.replace('ssh:', 'secrets: test.secrets.yml\nssh:'),
    'inventory/test.secrets.yml': encryptVault(secretsYaml, password),
    ...overrides,
  });
}

/** An encrypted value's vault text indented to sit under `name: !vault |` in a YAML file. */
export function inlineVaultBlock(value: string, password: string, indent: string): string {
  return encryptVault(value, password)
    .trimEnd()
    .split('\n')
    .map((l) => `${indent}${l}`)
    .join('\n');
}
