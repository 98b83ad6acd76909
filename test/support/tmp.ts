import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach } from 'vitest';

const made: string[] = [];
const madeForFile: string[] = [];

/**
 * A temporary directory built from a map of relative paths to contents; removed after the test,
 * or after the whole test file with `{ until: 'file' }` (for what a beforeAll prepares).
 */
export function tempTree(files: Record<string, string> = {}, opts: { until?: 'test' | 'file' } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'kanka-test-'));
  (opts.until === 'file' ? madeForFile : made).push(dir);
  for (const [rel, content] of Object.entries(files)) {
    const file = join(dir, rel);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
  return dir;
}

afterEach(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

afterAll(() => {
  for (const d of madeForFile.splice(0)) rmSync(d, { recursive: true, force: true });
});
