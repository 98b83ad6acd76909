import { spawnSync } from 'node:child_process';
import type { ShellCommand } from '../../src/shell/command.js';

/** Runs a script with the machine's own /bin/sh exactly as a host would (stdin, C locale). */
export function runLocalSh(script: string | ShellCommand): { stdout: string; stderr: string; code: number } {
  const text = typeof script === 'string' ? script : script.text;
  const r = spawnSync('sh', ['-s'], { input: `export LC_ALL=C\n${text}\n`, encoding: 'utf8' });
  return { stdout: r.stdout, stderr: r.stderr, code: r.status ?? 255 };
}
