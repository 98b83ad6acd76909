/** File helpers: atomic writes, writing inside a container root without following its symlinks, removal. */
import { chmodSync, existsSync, lstatSync, mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { writeAtomic } from '../../src/local/write-atomic.js';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { runOk } from './exec.js';

export function writeFileAtomic(path: string, content: string, mode = 0o644): void {
  mkdirSync(dirname(path), { recursive: true });
  writeAtomic(path, content, { forceMode: mode });
}

/**
 * The host-side path of `inner` (an absolute path inside the container) under `root`, refusing any
 * symlink on the way: a container's absolute symlink would otherwise point at this machine's files.
 */
export function pathInRoot(root: string, inner: string): string {
  const target = resolve(root, `.${inner}`);
  const rel = relative(root, target);
  if (rel.startsWith('..') || rel === '') throw new Error(`${inner} is not inside the root`);
  let cur = root;
  const parts = rel.split(sep);
  for (const part of parts.slice(0, -1)) {
    cur = join(cur, part);
    if (existsSync(cur) && lstatSync(cur).isSymbolicLink()) {
      throw new Error(`refusing to write ${inner} in ${root}: ${cur} is a symlink`);
    }
  }
  return target;
}

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

export function writeInRoot(root: string, inner: string, content: string, mode = 0o644, dirMode = 0o755): void {
  const target = pathInRoot(root, inner);
  if (!existsSync(dirname(target))) mkdirSync(dirname(target), { recursive: true, mode: dirMode });
  if (isLink(target)) unlinkSync(target);
  writeFileSync(target, content, { mode });
  chmodSync(target, mode);
}

/** rm -rf that never crosses into another filesystem (a leftover /proc or /dev bind mount). */
export async function removeTree(path: string): Promise<void> {
  if (!existsSync(path) && !isLink(path)) return;
  await runOk('rm', ['-rf', '--one-file-system', '--', path]);
}
