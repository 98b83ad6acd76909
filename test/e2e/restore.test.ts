import { beforeAll, describe, expect, it } from 'vitest';
import { httpsGet, waitFor } from './http.js';
import { fleetOrSkip, kanka, hostShell, convergeSite } from './support.js';

const { fleet, reason } = fleetOrSkip();
const addr = (name: string) => fleet?.hosts.find((h) => h.name === name)?.address ?? '';
const DIR = '/var/backups/kanka-infra/mariadb';

const { must } = hostShell(fleet, 120000);

const rows = (host: string) =>
  must(
    host,
    `mysql -N -e "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA='kanka' AND TABLE_NAME='e2e_restore'" && mysql -N -e "SELECT v FROM kanka.e2e_restore ORDER BY v" 2>/dev/null || true`,
  );
const newest = async (host: string) =>
  (await must(host, `ls ${DIR} | grep -E '^[0-9]{8}T[0-9]{6}Z$' | tail -1`)).trim();

describe.skipIf(!fleet)(`backups and restore${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let inv = '';
  const token = `t${Date.now()}`;

  beforeAll(async () => {
    if (!fleet) return;
    inv = fleet.inventoryFile;
    await convergeSite(inv);
    await must(
      'backend1',
      `mysql -e "DROP TABLE IF EXISTS kanka.e2e_restore; CREATE TABLE kanka.e2e_restore (v VARCHAR(64) PRIMARY KEY); INSERT INTO kanka.e2e_restore VALUES ('${token}-1'), ('${token}-2'), ('${token}-3')"`,
    );
    await waitFor('the rows on backend2', async () => (await rows('backend2')).includes(`${token}-3`), 15000);
  }, 900_000);

  it('db backup takes one now on the backup host, with its copy on the primary', async () => {
    const r = await kanka(['db', 'backup', inv]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^Backup \d{8}T\d{6}Z: taken \S+ on backend2, databases [^,]*kanka[^,]*, \d+ tables, .* GTID 0-\d+-\d+; in \d+\.\d s\.$/m,
    );
    expect(r.stdout).toMatch(new RegExp(`^Kept in ${DIR}/\\d{8}T\\d{6}Z on backend2, copied to backend1\\.$`, 'm'));
  });

  it("a table dropped on the primary comes back from the timer's backup on primary and replica; a corrupted backup is refused first", async () => {
    // The backup as the nightly timer takes it: its own unit.
    await must('backend2', 'systemctl start kanka-mariadb-backup.service');
    const id = await newest('backend2');
    await waitFor('the copy on backend1', async () => (await newest('backend1')) === id, 30000);

    await must('backend1', 'mysql -e "DROP TABLE kanka.e2e_restore"');
    await waitFor('the drop on backend2', async () => (await rows('backend2')).startsWith('0'), 15000);

    // A corrupted copy (one byte changed) is refused before anything is touched.
    const bad = `${id.slice(0, 9)}${String(Number(id.slice(9, 15)) + 1).padStart(6, '0')}Z`;
    await must(
      'backend1',
      `cp -a ${DIR}/${id} ${DIR}/${bad} && printf 'X' | dd of=${DIR}/${bad}/dump.sql.gz bs=1 seek=100 conv=notrunc 2>/dev/null`,
    );
    try {
      const refused = await kanka(['db', 'restore', inv, '--from', bad, '--yes']);
      expect(refused.code, refused.stdout + refused.stderr).toBe(1);
      expect(refused.stderr).toContain(
        `refused: backup ${bad} on backend1 does not match its checksum, so it is not restored. Nothing was changed.`,
      );
      expect(refused.stderr).toContain('dump.sql.gz: FAILED');
      expect(await rows('backend1')).toMatch(/^0/);
    } finally {
      await must('backend1', `rm -rf ${DIR}/${bad}`);
    }

    const r = await kanka(['db', 'restore', inv, '--from', id, '--yes']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`backup: {4}${id}: taken .* on backend2.*checksum verified on backend1`));
    expect(r.stderr).toMatch(/replaces: {2}.*kanka \(/);
    expect(r.stderr).toContain(
      'writes:    the app\'s MariaDB account "kanka" is locked and its sessions ended during the restore',
    );
    expect(r.stdout).toMatch(
      new RegExp(
        `^Restored backup ${id} on backend1 in \\d+\\.\\d s \\(the app's writes were stopped that long\\); replicas caught up: backend2 in \\d+\\.\\d s\\. Total \\d+\\.\\d s\\.$`,
        'm',
      ),
    );
    for (const host of ['backend1', 'backend2'])
      expect(await rows(host)).toBe(`1\n${token}-1\n${token}-2\n${token}-3\n`);
    expect(
      (await must('backend2', `mysql -e 'SHOW SLAVE STATUS\\G' | sed -n 's/^ *Slave_SQL_Running: //p'`)).trim(),
    ).toBe('Yes');
    // The app works through the frontends again (its account unlocked, both backends healthy).
    for (const f of ['frontend1', 'frontend2']) {
      await waitFor(
        `healthz through ${f}`,
        async () => {
          const h = await httpsGet(addr(f), '/healthz');
          return h.status === 200 && (JSON.parse(h.body) as { status: string }).status === 'ok';
        },
        20000,
      );
    }
    const drift = await kanka(['drift', inv]);
    expect(drift.code, drift.stdout.slice(-3000)).toBe(0);
  });

  it('refuses a backup that is not there, and a name that is not a backup, with nothing changed', async () => {
    const missing = await kanka(['db', 'restore', inv, '--from', '20000101T000000Z', '--yes']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(
      /no backup 20000101T000000Z in .* on backend1, the primary, where a restore runs\..*Nothing was changed\./s,
    );
    const wrong = await kanka(['db', 'restore', inv, '--from', 'yesterday', '--yes']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('--from must be "latest" or a backup name like 20261201T023000Z');
  });
});
