import { describe, expect, it } from 'vitest';
import { fleetOrSkip, hostShell, inventoryVariant, kanka, VAULT_PASSWORD } from './support.js';

const { fleet, reason } = fleetOrSkip();
const { must } = hostShell(fleet);

describe.skipIf(!fleet)(`run: ad-hoc commands on the local fleet${reason ? ` (skipped: ${reason})` : ''}`, () => {
  const inventory = fleet?.inventoryFile ?? '';
  const backends = fleet?.hosts.filter((h) => h.groups.includes('backend')).map((h) => h.name) ?? [];

  it('uptime on the backend group: each host its own output, exit 0, and a record in its apply log', async () => {
    expect(backends.length).toBeGreaterThanOrEqual(2);
    const r = await kanka(['run', inventory, '--limit', 'backend', '--', 'uptime']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const host of backends)
      expect(r.stdout).toMatch(new RegExp(`^${host} \\| ok \\| exit 0\\n  .*load average`, 'm'));
    expect(r.stdout).toContain(`${backends.length} hosts: ${backends.length} ok, 0 failed, 0 unreachable`);
    // Only the backends were asked.
    for (const other of fleet?.hosts.filter((h) => !backends.includes(h.name)) ?? [])
      expect(r.stdout).not.toContain(`${other.name} |`);
    const last = (await must(backends[0] ?? '', 'tail -n 1 /var/lib/kanka-infra/apply.log')).trim();
    expect(JSON.parse(last)).toMatchObject({ run: 'uptime', status: 'ok', exitCode: 0 });
  });

  it('a command failing on one host only: exit 3, the other host still shown with its output', async () => {
    const r = await kanka(['run', inventory, '-l', 'backend', '--', 'test "$(hostname)" != backend1 && hostname']);
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(r.stdout).toContain('backend1 | FAILED | exit 1');
    expect(r.stdout).toContain('backend2 | ok | exit 0\n  backend2\n');
    const json = await kanka(['run', inventory, '-l', 'backend', '--json', '--', 'test "$(hostname)" != backend1']);
    expect(json.code).toBe(3);
    const doc = JSON.parse(json.stdout) as { version: string; summary: { failed: string[] } };
    expect(doc.summary.failed).toEqual(['backend1']);
    expect(doc.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("a value of the vault the command prints is masked, on screen and in the host's apply log", async () => {
    if (!fleet) throw new Error('no fleet');
    const token = 'e2e-run-token-5d41402a';
    const inv = inventoryVariant(fleet, { secrets: { api_token: token } });
    const r = await kanka(['run', inv, '-l', 'backend1', '--', `echo "token=${token}"`], {
      env: { KANKA_VAULT_PASSWORD: VAULT_PASSWORD },
    });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('backend1 | ok | exit 0\n  token=<secret>\n');
    expect(r.stdout + r.stderr).not.toContain(token);
    const last = await must('backend1', 'tail -n 1 /var/lib/kanka-infra/apply.log');
    expect(last).toContain('echo \\"token=<secret>\\"');
    expect(last).not.toContain(token);
  });
});
