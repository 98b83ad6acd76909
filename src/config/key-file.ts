import { accessSync, constants, statSync } from 'node:fs';
import { ConfigError } from './diagnostics.js';
import type { Inventory } from './model.js';

/**
 * The inventory's ssh.key_file must be a readable file: said once, before any host is contacted,
 * rather than by every host at connect time. (Whether it parses, and its passphrase, is the SSH
 * transport's business.)
 */
export function requireKeyFile(inventory: Inventory): void {
  const key = inventory.ssh.key_file;
  if (!key) return;
  let problem: string | undefined;
  try {
    if (!statSync(key).isFile()) problem = 'is not a file';
    else accessSync(key, constants.R_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    problem = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' || code === 'EPERM' ? 'is not readable by this user' : (err as Error).message;
  }
  if (problem) {
    throw new ConfigError([{ file: inventory.file, path: ['ssh', 'key_file'], message: `the SSH key ${key} ${problem}`, hint: 'fix ssh.key_file (absolute, ~/..., or relative to the inventory file), or use ssh.agent: true' }]);
  }
}
