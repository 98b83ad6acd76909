import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { inject } from 'vitest';
import { sshToHost, type Fleet } from '../fleet/index.js';

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

import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { encryptVault } from '../../src/secrets/vault-format.js';
import { tempTree } from '../support/tmp.js';

export const VAULT_PASSWORD = 'e2e vault password';

/**
 * A copy of the fleet's inventory in a temp dir, with extra top-level YAML (vars, secrets)
 * and an encrypted secrets file: the same hosts, pinned keys and SSH key.
 */
export function inventoryVariant(
  fleet: Fleet,
  opts: {
    extraVars?: Record<string, string>;
    hostVars?: Record<string, Record<string, string>>;
    secrets?: Record<string, string>;
    transform?: (text: string) => string;
  } = {},
): string {
  const dir = tempTree({}, { until: 'file' });
  let text = readFileSync(fleet.inventoryFile, 'utf8');
  const vars = Object.entries(opts.extraVars ?? {})
    .map(([k, v]) => `  ${k}: ${JSON.stringify(v)}\n`)
    .join('');
  text = text.replace(/^vars:\n/m, `vars:\n${vars}`);
  for (const [host, hv] of Object.entries(opts.hostVars ?? {})) {
    const lines = Object.entries(hv)
      .map(([k, v]) => `      ${k}: ${JSON.stringify(v)}\n`)
      .join('');
    text = text.replace(new RegExp(`^  ${host}:\\n`, 'm'), `  ${host}:\n    vars:\n${lines}`);
  }
  if (opts.secrets) {
    // Our own secrets, with the password from the environment (VAULT_PASSWORD).
    text = text.replace(/^secrets: .*\n/m, '').replace(/^vault_password_file: .*\n/m, '');
    text = `secrets: secrets.yml\n${text}`;
    const yaml = Object.entries(opts.secrets)
      .map(([k, v]) => `${k}: ${JSON.stringify(v)}\n`)
      .join('');
    writeFileSync(join(dir, 'secrets.yml'), encryptVault(yaml, VAULT_PASSWORD));
  } else {
    // The fleet's own secrets and password file come along.
    for (const f of ['secrets.yml', 'vault-password']) {
      const from = join(dirname(fleet.inventoryFile), f);
      if (existsSync(from)) copyFileSync(from, join(dir, f));
    }
  }
  text = text.replace(/^playbook: \.\.\/\.\.\//m, `playbook: ${repoRoot}/`);
  writeFileSync(join(dir, 'inventory.yml'), opts.transform ? opts.transform(text) : text);
  copyFileSync(fleet.knownHostsFile, join(dir, 'known_hosts'));
  return join(dir, 'inventory.yml');
}

/**
 * Commands on the fleet's hosts over ssh, as the tests run them: `sh` says how it went, `must`
 * throws on a non-zero exit. `out` is stdout followed by stderr.
 */
export function hostShell(
  fleet: Fleet | undefined,
  timeoutMs = 60000,
): {
  sh: (host: string, command: string) => Promise<{ code: number; out: string }>;
  must: (host: string, command: string) => Promise<string>;
} {
  const sh = async (host: string, command: string) => {
    if (!fleet) throw new Error('no fleet');
    const r = await sshToHost(fleet, host, command, { timeoutMs });
    return { code: r.code, out: r.stdout + r.stderr };
  };
  const must = async (host: string, command: string) => {
    const r = await sh(host, command);
    if (r.code !== 0) throw new Error(`${host}: ${command}: exit ${r.code}: ${r.out}`);
    return r.out;
  };
  return { sh, must };
}

/**
 * Applies the site to the fleet. Other tests apply the site with their own secrets or reset a host
 * to bare (modules.test.ts resets backend1, the primary), which can leave backend2's replica behind
 * (a problem, exit 2): it is rebuilt with db reseed, as an operator would. Every test that needs
 * the converged site starts with it, so the suite passes from whatever state the fleet was left in.
 */
export async function convergeSite(inventory: string): Promise<void> {
  let converge = await kanka(['apply', inventory, '--yes']);
  if (converge.code === 2 && converge.stdout.includes('backend2 (replica of the primary, replicating)')) {
    const reseed = await kanka(['db', 'reseed', inventory, 'backend2', '--yes']);
    if (reseed.code !== 0)
      throw new Error(`db reseed backend2 exited ${reseed.code}: ${reseed.stdout}${reseed.stderr}`);
    // Once replicating, its /healthz passes and the frontends' health checks see it up again.
    converge = await kanka(['apply', inventory, '--yes']);
  }
  if (converge.code !== 0)
    throw new Error(
      `the site did not converge (exit ${converge.code}):\n${converge.stdout.slice(-3000)}${converge.stderr.slice(-1000)}`,
    );
}
