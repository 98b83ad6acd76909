import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/**
 * kanka-infra's version, from its package.json: the one place it is written. Found by walking up
 * from this file, which is src/cli/ (tsx, tests), dist/cli/ (tsc) or dist/kanka-infra.cjs (the
 * bundle, where import.meta.url is the bundle: see scripts/bundle.mjs); each has it above.
 */
export function cliVersion(): string {
  cached ??= readVersion(dirname(fileURLToPath(import.meta.url)));
  return cached;
}

function readVersion(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    const found = versionIn(join(dir, 'package.json'));
    if (found !== undefined) return found;
    if (dirname(dir) === dir) return 'unknown';
  }
}

function versionIn(file: string): string | undefined {
  try {
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
    return pkg.name === 'kanka-infra' && typeof pkg.version === 'string' ? pkg.version : undefined;
  } catch {
    return undefined;
  }
}
