import { spawnSync } from 'node:child_process';

/** Runs a script with the machine's own /bin/sh exactly as a host would (stdin, C locale). */
export function runLocalSh(script: string): { stdout: string; stderr: string; code: number } {
  const r = spawnSync('sh', ['-s'], { input: `export LC_ALL=C\n${script}\n`, encoding: 'utf8' });
  return { stdout: r.stdout, stderr: r.stderr, code: r.status ?? 255 };
}
