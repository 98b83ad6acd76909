import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprint } from '../../src/transport/known-hosts.js';
import { DEFAULT_HOSTS, fleetResetHost, fleetStartHost, fleetStopHost, fleetUp, sshToHost } from '../fleet/index.js';
import { httpsGet, keepRequesting, waitFor } from './http.js';
import { convergeSite, fixtures, fleetOrSkip, inventoryVariant, kanka } from './support.js';

const { fleet, reason } = fleetOrSkip();
const addr = (name: string) => fleet?.hosts.find((h) => h.name === name)?.address ?? '';
const B3 = '10.213.7.16';

async function sh(host: string, command: string): Promise<{ code: number; out: string }> {
  if (!fleet) throw new Error('no fleet');
  const target =
    host === 'backend3'
      ? {
          ...fleet,
          hosts: [
            ...fleet.hosts,
            { name: 'backend3', groups: ['backend'], address: B3, pid: 0, root: '', running: true },
          ],
        }
      : fleet;
  const r = await sshToHost(target, host, command, { timeoutMs: 60000 });
  return { code: r.code, out: r.stdout + r.stderr };
}

async function must(host: string, command: string): Promise<string> {
  const r = await sh(host, command);
  if (r.code !== 0) throw new Error(`${host}: ${command}: exit ${r.code}: ${r.out}`);
  return r.out;
}

describe.skipIf(!fleet)(`day-2 operations on the local fleet${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let inv = '';

  beforeAll(async () => {
    if (!fleet) return;
    // A converged five-host site first (fast when it already is).
    await convergeSite(fleet.inventoryFile);
    // Our own copy of the inventory: add-host and remove-host edit it.
    inv = inventoryVariant(fleet);
    // A sixth, bare host: it exists on the network but not (yet) in our inventory.
    const six = await fleetUp({ hosts: [...DEFAULT_HOSTS, { name: 'backend3', groups: ['backend'] }] });
    expect(six.hosts.find((h) => h.name === 'backend3')?.address).toBe(B3);
    await fleetResetHost('backend3');
  });

  afterAll(async () => {
    // Back to the five-host fleet (backend3 leaves the generated inventory).
    await fleetUp();
  });

  it('add-host backend3 converges it, and the fleet uses it: varnish, firewall, grants, replication', async () => {
    const line =
      readFileSync(join(fleet?.inventoryFile ?? '', '..', 'known_hosts'), 'utf8')
        .split('\n')
        .find((l) => l.startsWith(`${B3} `)) ?? '';
    const fp = fingerprint(Buffer.from(line.split(' ')[2] ?? '', 'base64'));
    const before = readFileSync(inv, 'utf8');
    // A second application database, made by hand on the primary: a new replica must get it too.
    const holdout = `h-${Date.now()}`;
    await must(
      'backend1',
      `mysql -e "CREATE DATABASE IF NOT EXISTS holdout; CREATE TABLE IF NOT EXISTS holdout.t (v VARCHAR(64)); INSERT INTO holdout.t VALUES ('${holdout}')"`,
    );
    const r = await kanka([
      'add-host',
      'backend3',
      '--env',
      inv,
      '--group',
      'backend',
      '--address',
      B3,
      '--host-key',
      fp,
      '--yes',
    ]);
    expect(r.code, r.stdout.slice(-3000) + r.stderr.slice(-2000)).toBe(0);
    expect(r.stderr).toContain(`host key ssh-ed25519 ${fp} pinned`);
    // Only the new host's lines were added, in the style of the others (no other byte moved).
    expect(readFileSync(inv, 'utf8')).toBe(`${before}  backend3:\n    address: ${B3}\n    groups: [backend]\n`);
    // Existing hosts changed because of it:
    expect(r.stdout).toMatch(/frontend1 \([^)]*\)[\s\S]*default\.vcl/);
    expect(r.stdout).toContain(`+${B3}\tbackend3`);
    for (const f of ['frontend1', 'frontend2'])
      expect(await must(f, 'varnishadm backend.list | grep -c "be2 .*healthy"')).toBe('1\n');
    await waitFor(
      'a response served by backend3',
      async () => (await httpsGet(addr('frontend1'), '/healthz')).headers['x-served-by'] === 'backend3',
      30000,
    );
    expect(
      (await sh('backend3', `curl -s -m 3 telnet://${addr('backend1')}:3306 </dev/null; echo "exit=$?"`)).out,
    ).not.toContain('exit=7');
    expect(
      await must('backend1', `mysql -N -e "SELECT Host FROM mysql.user WHERE User='kanka' AND Host='${B3}'"`),
    ).toBe(`${B3}\n`);
    const token = `b3-${Date.now()}`;
    await must(
      'backend1',
      `mysql kanka -e "CREATE TABLE IF NOT EXISTS e2e (v VARCHAR(64)); INSERT INTO e2e VALUES ('${token}')"`,
    );
    await waitFor(
      'the row on backend3',
      async () => (await must('backend3', `mysql -N kanka -e "SELECT v FROM e2e WHERE v='${token}'"`)).trim() === token,
      15000,
    );
    // Seeded with every application database (not only kanka), and replicating writes to it.
    expect(await must('backend3', `mysql -N -e "SELECT v FROM holdout.t WHERE v='${holdout}'"`)).toBe(`${holdout}\n`);
    await must('backend1', `mysql -e "INSERT INTO holdout.t VALUES ('${token}')"`);
    await waitFor(
      'the holdout row on backend3',
      async () => (await must('backend3', `mysql -N -e "SELECT v FROM holdout.t WHERE v='${token}'"`)).trim() === token,
      15000,
    );
    expect(await must('backend3', `mysql -e 'SHOW SLAVE STATUS\\G' | grep -c 'Slave_SQL_Running: Yes'`)).toBe('1\n');
  });

  it('a second add-host changes nothing, and drift afterwards exits 0', async () => {
    const again = await kanka(['add-host', 'backend3', '--env', inv, '--group', 'backend', '--address', B3, '--yes']);
    expect(again.code, again.stdout.slice(-2000)).toBe(0);
    expect(again.stdout).toContain('Applied: no changes.');
    const drift = await kanka(['drift', inv]);
    expect(drift.code, drift.stdout.slice(-2000)).toBe(0);
  });

  it('remove-host backend3 takes it out of rotation with zero failed requests meanwhile', async () => {
    const client = keepRequesting([addr('frontend1'), addr('frontend2')], '/healthz');
    const r = await kanka(['remove-host', 'backend3', '--env', inv, '--yes']);
    const { ok, failed } = await client.stop();
    expect(r.code, r.stdout.slice(-2000) + r.stderr).toBe(0);
    expect(failed.slice(0, 5), `${failed.length} failed`).toEqual([]);
    expect(ok).toBeGreaterThan(10);
    for (const f of ['frontend1', 'frontend2'])
      expect(await must(f, 'grep -c "10.213.7.16" /etc/varnish/default.vcl || true')).toBe('0\n');
    expect(readFileSync(inv, 'utf8')).not.toContain('backend3');
    expect(await must('backend1', `mysql -N -e "SELECT COUNT(*) FROM mysql.user WHERE Host='${B3}'"`)).toBe('0\n');
    expect((await sh('backend3', 'true')).code).toBe(0);
  });

  it('drift: a hand edit names host, task and diff (exit 2); a stopped service and a removed package are caught', async () => {
    await must('frontend2', `sed -i 's/^\\tmaxconn 4000$/\\tmaxconn 9999/' /etc/haproxy/haproxy.cfg`);
    await must('backend2', 'systemctl stop redis-server');
    await must('thumbor', 'DEBIAN_FRONTEND=noninteractive apt-get remove -y -q rsync >/dev/null 2>&1');
    const r = await kanka(['drift', inv]);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(
      /frontend2 \([^)]*\)\n {2}~ update \/etc\/haproxy\/haproxy\.cfg .*\[haproxy\] haproxy config/,
    );
    expect(r.stdout).toContain('-\tmaxconn 9999');
    expect(r.stdout).toContain('+\tmaxconn 4000');
    expect(r.stdout).toMatch(/redis-server\.service {2}inactive -> started/);
    expect(r.stdout).toMatch(/\+ create package rsync/);
    expect(r.stderr).toBe('');
    const fix = await kanka(['apply', inv, '--yes']);
    expect(fix.code, fix.stdout.slice(-2000)).toBe(0);
    expect((await kanka(['drift', inv])).code).toBe(0);
  });

  it('drift with a stopped host: exit 3, and the other hosts are still reported', async () => {
    await must('backend2', `sed -i 's/^# Managed/# Hand edit\\n# Managed/' /etc/redis/redis.conf`);
    await fleetStopHost('thumbor');
    try {
      const r = await kanka(['drift', inv, '--forks', '5']);
      expect(r.code).toBe(3);
      expect(r.stdout).toMatch(/thumbor \(10\.213\.7\.11\) {2}UNREACHABLE/);
      // redis.conf holds the redis password: its drift is named, its content never shown.
      expect(r.stdout).toMatch(/~ update \/etc\/redis\/redis\.conf.*\n\s+\(sensitive content: 1 line changed/);
      expect(r.stdout).not.toContain('# Hand edit');
      expect(r.stdout).toMatch(/backend2 \(/);
    } finally {
      await fleetStartHost('thumbor');
    }
    expect((await kanka(['apply', inv, '--yes'])).code).toBe(0);
  });

  it('two concurrent applies: one proceeds, the other is refused naming the holder', async () => {
    await must('backend1', 'rm -f /tmp/kanka-slow');
    const slow = join(fixtures, 'playbooks', 'slow.yml');
    const first = kanka(['apply', inv, '--playbook', slow, '--yes']);
    await new Promise((r) => setTimeout(r, 1500));
    const second = await kanka(['apply', inv, '--playbook', slow, '--yes']);
    const one = await first;
    expect(one.code, one.stdout).toBe(0);
    expect(second.code).toBe(3);
    expect(second.stdout).toMatch(
      /backend1: locked by another run: \S+@\S+ pid \d+ since \S+: kanka-infra apply .* --yes \[[0-9a-f]+\]\. That run is still going: wait for it\./,
    );
    const log = await must('backend1', 'tail -1 /var/lib/kanka-infra/apply.log');
    expect(JSON.parse(log)).toMatchObject({ status: 'changed', changes: ['run sleep 3 && touch /tmp/kanka-slow'] });
  });
});
