import { execFileSync } from 'node:child_process';
import { hostname, userInfo } from 'node:os';
import { newToken, type RunInfo } from '../engine/lock.js';

/** Who runs what, from where, on which commit of the configuration: for locks and apply logs. */
export function runInfo(env: string, argv: readonly string[], projectDir: string): RunInfo {
  // Asked for each host's apply record: two git runs, once per run.
  let commit: string | undefined;
  return {
    user: safeUser(),
    machine: hostname(),
    pid: process.pid,
    command: ['kanka-infra', ...argv].join(' '),
    env,
    startedAt: new Date().toISOString(),
    token: newToken(),
    commit: () => (commit ??= gitCommit(projectDir)),
  };
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env['USER'] ?? 'unknown';
  }
}

function gitCommit(dir: string): string {
  try {
    const head = execFileSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    const dirty = execFileSync('git', ['-C', dir, 'status', '--porcelain', '--untracked-files=no'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    return dirty ? `${head}-dirty` : head;
  } catch {
    return 'unknown';
  }
}
