/** Overlay mounts and finding what is mounted under a directory (stale mounts from a crashed run). */
import { readFileSync } from 'node:fs';
import { run, runOk, sleep } from './exec.js';

function unescapeMountPath(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export function mountPoints(): string[] {
  const text = readFileSync('/proc/self/mountinfo', 'utf8');
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const field = line.split(' ')[4];
    if (field !== undefined) out.push(unescapeMountPath(field));
  }
  return out;
}

export function isMountPoint(path: string): boolean {
  return mountPoints().includes(path);
}

/** Mount points equal to or below dir, deepest first (the order to unmount them). */
export function mountsUnder(dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return [...new Set(mountPoints().filter((m) => m === dir || m.startsWith(prefix)))].sort(
    (a, b) => b.length - a.length,
  );
}

export async function mountOverlay(lower: string, upper: string, work: string, target: string): Promise<void> {
  await runOk('mount', [
    '-t',
    'overlay',
    'overlay',
    '-o',
    `lowerdir=${lower},upperdir=${upper},workdir=${work}`,
    target,
  ]);
}

/** Unmount, retrying while busy, and detaching lazily as a last resort. */
export async function unmount(path: string): Promise<void> {
  for (let i = 0; i < 10; i++) {
    if (!isMountPoint(path)) return;
    const r = await run('umount', [path]);
    if (r.code === 0) continue;
    await sleep(300);
  }
  while (isMountPoint(path)) {
    const r = await run('umount', ['-l', path]);
    if (r.code !== 0) throw new Error(`cannot unmount ${path}: ${r.stderr.trim()}`);
  }
}

export async function unmountAllUnder(dir: string): Promise<string[]> {
  const found = mountsUnder(dir);
  for (const m of found) await unmount(m);
  return found;
}
