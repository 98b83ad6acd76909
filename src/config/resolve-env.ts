import { closeSync, openSync, readSync, readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { ConfigError, describeFsError } from '../diagnostics/diagnostic.js';
import { pathKind } from './path-kind.js';
import { isVaultText } from '../secrets/vault-format.js';

/**
 * `<env>` is a name (inventory/<env>.yml under the project directory) or a path to an
 * inventory file. Returns the absolute file path, or explains what exists instead.
 */
export function resolveInventoryFile(env: string, projectDir: string): string {
  const looksLikePath = env.includes('/') || /\.ya?ml$/.test(env);
  if (looksLikePath) {
    const file = resolve(env);
    const kind = pathKind(file, 'the inventory');
    if (kind === 'missing')
      throw new ConfigError([
        {
          file,
          message: 'inventory file not found',
          hint: 'give an environment name (inventory/<env>.yml) or an existing path',
        },
      ]);
    if (kind === 'directory')
      throw new ConfigError([{ file, message: 'is a directory; give the inventory file inside it' }]);
    return file;
  }
  const dir = join(projectDir, 'inventory');
  for (const ext of ['.yml', '.yaml']) {
    const file = join(dir, `${env}${ext}`);
    if (pathKind(file, 'the inventory') !== 'missing') return file;
  }
  const known = knownEnvironments(projectDir);
  throw new ConfigError([
    {
      file: join(dir, `${env}.yml`),
      message: `no environment named "${env}"`,
      hint:
        known.length > 0
          ? `known environments: ${known.join(', ')}`
          : `create ${join(dir, `${env}.yml`)} or pass a path to an inventory file`,
    },
  ]);
}

/** The environments of a project: inventory/*.yml (an encrypted secrets file beside them is not one). */
export function knownEnvironments(projectDir: string): string[] {
  const dir = join(projectDir, 'inventory');
  if (pathKind(dir, 'the inventory directory') !== 'directory') return [];
  return listDir(dir)
    .filter((f) => /\.ya?ml$/.test(f) && !isVaultFile(join(dir, f)))
    .map((f) => basename(f).replace(/\.ya?ml$/, ''));
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (err) {
    throw new ConfigError([{ file: dir, message: `cannot read the inventory directory: ${describeFsError(err)}` }]);
  }
}

/** An encrypted secrets file (prod.secrets.yml) sits beside the inventories but is not an environment. */
function isVaultFile(file: string): boolean {
  try {
    const fd = openSync(file, 'r');
    try {
      const head = Buffer.alloc(64);
      return isVaultText(head.subarray(0, readSync(fd, head, 0, head.length, 0)));
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}
