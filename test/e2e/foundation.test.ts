import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { sshToHost } from '../fleet/index.js';
import { fixtures, fleetOrSkip, inventoryVariant, kanka } from './support.js';

const { fleet, reason } = fleetOrSkip();
const playbook = join(fixtures, 'playbooks', 'foundation.yml');
const APP = '/srv/kanka-e2e';

async function sh(host: string, command: string): Promise<string> {
  if (!fleet) throw new Error('no fleet');
  const r = await sshToHost(fleet, host, command);
  if (r.code !== 0) throw new Error(`${host}: ${command}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

describe.skipIf(!fleet)(`foundation on the local fleet${reason ? ` (skipped: ${reason})` : ''}`, () => {
  const inventory = fleet?.inventoryFile ?? '';
  const hosts = fleet?.hosts.map((h) => h.name) ?? [];
  const run = (cmd: string, ...extra: string[]) => kanka([cmd, inventory, '--playbook', playbook, ...extra]);

  beforeAll(async () => {
    // Start from hosts that have never seen this playbook.
    await Promise.all(hosts.map((h) => sh(h, `rm -rf ${APP} /etc/motd`)));
  });

  it('plan on untouched hosts announces the changes and exits 2, changing nothing', async () => {
    const r = await run('plan');
    expect(r.code, r.stderr).toBe(2);
    for (const h of hosts) expect(r.stdout).toContain(`${h} (`);
    expect(r.stdout).toContain('+ create /etc/motd');
    expect(r.stdout).toMatch(/Plan: 25 to create, 0 to update, 0 to delete, 10 to run on 5 hosts\./);
    expect(await sh('backend1', `test -e ${APP} && echo yes || echo no`)).toBe('no\n');
  });

  it('apply --yes converges every host, and the effects are real', async () => {
    const r = await run('apply', '--yes');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Applied: 25 created, 0 updated, 0 deleted, 10 run on 5 hosts\./);
    for (const h of hosts) {
      const address = fleet?.hosts.find((x) => x.name === h)?.address ?? '';
      expect(await sh(h, 'cat /etc/motd')).toBe(
        `Welcome to ${h} (${address}), one of the kanka fleet.\nManaged by kanka-infra: hand edits are reverted.\n`,
      );
    }
    expect(await sh('frontend2', `stat -c '%a %U %G' ${APP} ${APP}/etc/app.ini`)).toBe(
      '750 root root\n640 root root\n',
    );
    expect(await sh('frontend2', `readlink ${APP}/current.ini`)).toBe(`${APP}/etc/app.ini\n`);
    expect(await sh('frontend2', `cat ${APP}/etc/app.ini`)).toBe(
      readFileSync(join(fixtures, 'roles/foundation/files/app.ini'), 'utf8'),
    );
    expect(await sh('thumbor', `cat ${APP}/etc/flags`)).toBe('kanka=1\n');
    expect(await sh('thumbor', `ls -A ${APP}/etc`)).not.toContain('.kanka-tmp');
  });

  it('plan right after: exit 0, "no changes", at most 3 round trips per host', async () => {
    const r = await run('plan');
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toContain('Plan: no changes on 5 host(s).');
    const json = await run('plan', '--json');
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout) as { hosts: Array<{ host: string; roundTrips: number; status: string }> };
    expect(doc.hosts).toHaveLength(5);
    for (const h of doc.hosts) {
      expect(h.status).toBe('ok');
      expect(h.roundTrips).toBeLessThanOrEqual(3);
    }
  });

  it('apply again changes nothing: guarded commands do not run twice', async () => {
    const before = await sh('backend2', `cat ${APP}/installed-at`);
    const r = await run('apply', '--yes');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Applied: no changes.');
    expect(await sh('backend2', `cat ${APP}/installed-at`)).toBe(before);
    expect(await sh('backend2', `cat ${APP}/etc/flags`)).toBe('kanka=1\n');
  });

  it('a hand edit on one host: plan exits 2 and its diff shows the edit', async () => {
    await sh('backend2', `sed -i 's/Welcome/Hacked/' /etc/motd && chmod 0600 ${APP}/etc/app.ini`);
    const r = await run('plan');
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('backend2 (');
    expect(r.stdout).toContain('-Hacked to backend2');
    expect(r.stdout).toContain('+Welcome to backend2');
    expect(r.stdout).toContain('mode 0600 -> 0640');
    expect(r.stdout).toMatch(/Plan: 0 to create, 2 to update, 0 to delete, 0 to run on 1 host\./);
    expect((await run('apply', '--yes', '--limit', 'backend2')).code).toBe(0);
    expect((await run('plan')).code).toBe(0);
  });

  it('an unpinned host key is refused with its fingerprint and the command that pins it', async () => {
    const dir = dirname(inventoryVariant(fleet!));
    const known = readFileSync(fleet?.knownHostsFile ?? '', 'utf8');
    const address = fleet?.hosts.find((h) => h.name === 'frontend1')?.address ?? '';
    writeFileSync(
      join(dir, 'known_hosts'),
      known
        .split('\n')
        .filter((l) => !l.startsWith(`${address} `))
        .join('\n'),
    );
    const r = await kanka(['plan', join(dir, 'inventory.yml'), '--playbook', playbook]);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(
      new RegExp(
        `frontend1 \\(${address.replace(/\./g, '\\.')}:22\\): host key not pinned: ssh-ed25519 SHA256:[A-Za-z0-9+/]{43}`,
      ),
    );
    expect(r.stdout).toContain(`printf '%s\\n' '${address} ssh-ed25519 `);
    expect(r.stdout).toMatch(/frontend1\s+ok=0 .*unreachable=1/);
    // The other hosts were still planned.
    expect(r.stdout).toMatch(/backend1\s+ok=\d+/);
  });

  it('a changed host key is refused loudly', async () => {
    const dir = dirname(inventoryVariant(fleet!));
    const lines = readFileSync(fleet?.knownHostsFile ?? '', 'utf8')
      .split('\n')
      .filter(Boolean);
    const f1 = fleet?.hosts.find((h) => h.name === 'frontend1')?.address ?? '';
    const f2 = fleet?.hosts.find((h) => h.name === 'frontend2')?.address ?? '';
    const f2Key =
      lines
        .find((l) => l.startsWith(`${f2} `))
        ?.split(' ')
        .slice(1)
        .join(' ') ?? '';
    // Pin frontend2's key for frontend1's address: frontend1 now presents a "changed" key.
    writeFileSync(
      join(dir, 'known_hosts'),
      lines.map((l) => (l.startsWith(`${f1} `) ? `${f1} ${f2Key}` : l)).join('\n') + '\n',
    );
    const r = await kanka(['plan', join(dir, 'inventory.yml'), '--playbook', playbook, '--limit', 'frontend1']);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('HOST KEY CHANGED');
    expect(r.stdout).toMatch(/offered ssh-ed25519 SHA256:\S+, pinned ssh-ed25519 SHA256:\S+/);
  });

  it('a key the host does not accept is an authentication failure, named as such', async () => {
    const dir = dirname(inventoryVariant(fleet!));
    const key = join(dir, 'stranger_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    writeFileSync(
      join(dir, 'inventory.yml'),
      readFileSync(join(dir, 'inventory.yml'), 'utf8').replace(/key_file: .*/, `key_file: ${key}`),
    );
    const r = await kanka(['plan', join(dir, 'inventory.yml'), '--playbook', playbook, '--limit', 'backend1']);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(
      /backend1 \(10\.213\.7\.\d+:22\): authentication failed for user root \(key not accepted\)/,
    );
  });

  it('an unreachable host is reported by name and cause, the rest still planned', async () => {
    const dir = dirname(
      inventoryVariant(fleet!, {
        transform: (text) =>
          text
            .replace(/key_file: /, 'connect_timeout: 3\n  key_file: ')
            .replace(/^hosts:\n/m, 'hosts:\n  ghost:\n    address: 10.213.7.250\n    groups: [backend]\n'),
      }),
    );
    const r = await kanka(['plan', join(dir, 'inventory.yml'), '--playbook', playbook, '--limit', 'ghost:backend1']);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/ghost \(10\.213\.7\.250:22\): (host unreachable|connection timed out)/);
    expect(r.stdout).toMatch(/backend1\s+ok=\d+ .*ok$/m);
  });
});
