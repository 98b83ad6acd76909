import { readFileSync } from 'node:fs';
import { ConfigError, describeFsError } from '../diagnostics/diagnostic.js';
import { vaultErrorToConfig } from './load-secrets.js';
import { parseVaultEnvelope, VaultError } from './vault-format.js';

/** What `secrets.<name>` is when validate runs without the vault password. */
export function standInValue(name: string): string {
  return `stand-in-for-secret-${name}`;
}

/**
 * Secrets as `validate` sees them without the vault password: the names cannot be known, so every
 * name answers with an opaque stand-in string (in task arguments, `when` and templates alike).
 * Nothing else is skipped: the rest of the configuration is checked as usual.
 */
export function standInSecrets(): Record<string, unknown> {
  const descriptor = (name: string): PropertyDescriptor => ({
    value: standInValue(name),
    enumerable: true,
    configurable: true,
    writable: false,
  });
  return new Proxy(Object.create(null) as Record<string, unknown>, {
    get: (_target, name) => (typeof name === 'string' ? standInValue(name) : undefined),
    has: (_target, name) => typeof name === 'string',
    getOwnPropertyDescriptor: (_target, name) => (typeof name === 'string' ? descriptor(name) : undefined),
    ownKeys: () => [],
  });
}

/** Without the password the vault cannot be opened, but it must still be there and be a vault. */
export function checkVaultEnvelope(file: string): void {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (err) {
    throw new ConfigError([{ file, message: `cannot read the secrets vault: ${describeFsError(err)}` }]);
  }
  try {
    parseVaultEnvelope(data, file);
  } catch (err) {
    if (err instanceof VaultError) throw vaultErrorToConfig(err);
    throw err;
  }
}
