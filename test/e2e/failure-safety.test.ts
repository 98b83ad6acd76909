import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { sshToHost } from '../fleet/index.js';
import { waitFor } from './http.js';
import { fixtures, fleetOrSkip, kanka, repoRoot, type CliResult } from './support.js';

const { fleet, reason } = fleetOrSkip();
const playbook = join(fixtures, 'playbooks', 'failsafe.yml');
const LOCK = '/var/lib/kanka-infra/lock';
const names = () => fleet?.hosts.map((h) => h.name) ?? [];

async function sh(host: string, command: string): Promise<string> {
  if (!fleet) throw new Error('no fleet');
  const r = await sshToHost(fleet, host, command, { timeoutMs: 60000 });
  return r.stdout + r.stderr;
}

/** What each host has: which of the fixture's markers, and whether a run lock is left. */
async function state(host: string): Promise<{ started: boolean; first: boolean; second: boolean; locked: boolean }> {
  const out = await sh(
    host,
    `for f in /tmp/kanka-failsafe-started /tmp/kanka-failsafe-1 /tmp/kanka-failsafe-2 ${LOCK}; do test -e $f && echo 1 || echo 0; done`,
  );
  const [started, first, second, locked] = out
    .trim()
    .split('\n')
    .map((l) => l === '1');
  return { started: started === true, first: first === true, second: second === true, locked: locked === true };
}

/** The CLI as a separate process, with a handle to signal it. */
function start(
  args: string[],
  env: Record<string, string> = {},
): { pid: () => number | undefined; signal: (s: NodeJS.Signals) => void; done: Promise<CliResult> } {
  const child = spawn(join(repoRoot, 'bin', 'kanka-infra'), args, {
    cwd: repoRoot,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, sig) => resolve({ code: code ?? (sig ? -1 : -2), stdout, stderr }));
  });
  return { pid: () => child.pid, signal: (s) => child.kill(s), done };
}

// --break-lock: the fleet is shared, and a run of another session that was killed may have left a
// lock (it is only taken over when its holder on this machine is gone; this file holds the e2e lock).
describe.skipIf(!fleet)(`failure safety on the local fleet${reason ? ` (skipped: ${reason})` : ''}`, () => {
  const clean = async () => {
    await Promise.all(
      names().map((h) => sh(h, 'rm -f /tmp/kanka-failsafe-started /tmp/kanka-failsafe-1 /tmp/kanka-failsafe-2')),
    );
  };
  beforeEach(clean);
  afterAll(clean);

  it('an internal error on one host (test hook): no lock left on any host, the others converge, exit 3, the process ends', async () => {
    const failing = 'backend2';
    const run = start(['apply', fleet?.inventoryFile ?? '', '--playbook', playbook, '--yes', '--break-lock'], {
      KANKA_TEST_FAIL_HOST: failing,
    });
    // A connection left open (with keepalives) would keep the process alive: it must end by itself.
    const r = await Promise.race([
      run.done,
      new Promise<CliResult>((resolve) =>
        setTimeout(() => resolve({ code: -99, stdout: 'still running after 120 s', stderr: '' }), 120_000),
      ),
    ]);
    expect(r.code, r.stdout.slice(-3000) + r.stderr.slice(-2000)).toBe(3);
    expect(r.stdout).toContain(`${failing}: internal error (a bug in kanka-infra`);
    expect(r.stdout).toContain('KANKA_TEST_FAIL_HOST');
    for (const host of names()) {
      const s = await state(host);
      expect(s.locked, `${host} lock`).toBe(false);
      if (host === failing) expect(s.first || s.second, `${host} changed`).toBe(false);
      else expect(s.first && s.second, `${host} converged`).toBe(true);
    }
    // The failed host is fine once the bug is gone.
    const again = await kanka(['apply', fleet?.inventoryFile ?? '', '--playbook', playbook, '--yes', '--break-lock']);
    expect(again.code, again.stdout.slice(-2000)).toBe(0);
    expect((await state(failing)).second).toBe(true);
  });

  it('SIGINT during apply: the change in flight finishes, no other starts, no lock left, a recap, exit 130', async () => {
    const run = start(['apply', fleet?.inventoryFile ?? '', '--playbook', playbook, '--yes', '--break-lock']);
    const first = names()[0] ?? '';
    // Ctrl-C once the slow first change is running on a host.
    await waitFor(`the first change running on ${first}`, async () => (await state(first)).started, 60_000);
    run.signal('SIGINT');
    const r = await run.done;
    expect(r.code, r.stdout.slice(-3000) + r.stderr.slice(-2000)).toBe(130);
    expect(r.stderr).toContain('interrupted: no new change starts');
    expect(r.stdout).toContain('Recap');
    expect(r.stdout).toContain('interrupted (Ctrl-C)');
    for (const host of names()) {
      const s = await state(host);
      expect(s.locked, `${host} lock`).toBe(false);
      // A change in flight was let finish; the next one never started.
      expect(s.first, `${host} finished its change in flight`).toBe(s.started);
      expect(s.second, `${host} started no new change`).toBe(false);
    }
    expect(JSON.parse((await sh(first, 'tail -1 /var/lib/kanka-infra/apply.log')).trim())).toMatchObject({
      status: 'interrupted',
    });
    // The next run finishes the job.
    const again = await kanka(['apply', fleet?.inventoryFile ?? '', '--playbook', playbook, '--yes', '--break-lock']);
    expect(again.code, again.stdout.slice(-2000)).toBe(0);
    for (const host of names()) expect((await state(host)).second, host).toBe(true);
  });
});
