import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { inject } from 'vitest';
import type { Fleet } from '../fleet/index.js';

export const repoRoot = join(import.meta.dirname, '..', '..');
export const fixtures = join(import.meta.dirname, 'fixtures');

/** The fleet booted by global-setup, or undefined (and a reason) when this machine cannot run it. */
export function fleetOrSkip(): { fleet?: Fleet; reason?: string } {
  const f = inject('fleet');
  return 'unavailable' in f ? { reason: f.unavailable } : { fleet: f };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as a user would: a separate process, its real exit code. */
export function kanka(args: string[], opts: { env?: Record<string, string> } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(repoRoot, 'bin', 'kanka-infra'), args, {
      cwd: repoRoot,
      env: { ...process.env, NO_COLOR: '1', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
