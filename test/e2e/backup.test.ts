/**
 * The mariadb-backup role on the fleet: backups taken by the service's own unit on the backup host
 * (backend2, a replica), checksummed, with the GTID position, copied to backend1 over SSH with the
 * vault's key; failures recorded; retention on both hosts; corrupted copies refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './http.js';
import { convergeSite, fleetOrSkip, kanka, hostShell } from './support.js';

const { fleet, reason } = fleetOrSkip();
const addr = (name: string) => fleet?.hosts.find((h) => h.name === name)?.address ?? '';
const DIR = '/var/backups/kanka-infra/mariadb';
const STATUS = '/var/lib/kanka-infra/mariadb-backup.status';
const CONF = '/etc/kanka-infra/mariadb-backup.conf';
const ID = /^\d{8}T\d{6}Z$/;

const { sh, must } = hostShell(fleet, 120000);

const keyValues = (text: string): Record<string, string> =>
  Object.fromEntries(
    text
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );

const backupIds = async (host: string): Promise<string[]> =>
  (await must(host, `ls -1 ${DIR}`))
    .split('\n')
    .filter((l) => ID.test(l))
    .sort();

const partials = async (host: string): Promise<string> =>
  (await must(host, `ls -1a ${DIR} | grep '^\\.partial-' || true`)).trim();

/** A backup by the unit, as `db backup` takes one: the id of the newest backup afterwards. */
async function backupNow(): Promise<{ code: number; out: string; id: string }> {
  const r = await sh('backend2', 'systemctl start kanka-mariadb-backup.service');
  const ids = await backupIds('backend2');
  return { ...r, id: ids[ids.length - 1] ?? '' };
}

/** The UTC id of a time (YYYYMMDDTHHMMSSZ). */
const idOf = (ms: number) =>
  new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');

describe.skipIf(!fleet)(`mariadb-backup on the local fleet${reason ? ` (skipped: ${reason})` : ''}`, () => {
  const tokens = { app: `app-${Date.now()}`, other: `other-${Date.now()}` };

  beforeAll(async () => {
    if (!fleet) return;
    await convergeSite(fleet.inventoryFile);
  });

  afterAll(async () => {
    if (!fleet) return;
    // Whatever a failed test left: replication running, the unit not failed, test data gone.
    await sh(
      'backend2',
      'mysql -e "START SLAVE SQL_THREAD"; systemctl reset-failed kanka-mariadb-backup.service; rm -rf /tmp/e2e-backup-*',
    );
    await sh('backend1', 'mysql -e "DROP DATABASE IF EXISTS e2e_backup; DROP TABLE IF EXISTS kanka.e2e_backup"');
    // The retention test's fake backups are no backups for later runs (db restore lists them).
    for (const host of ['backend1', 'backend2'])
      await sh(
        host,
        `for d in ${DIR}/2*; do if [ "$(cat "$d/manifest" 2>/dev/null)" = fake ]; then rm -rf "$d"; fi; done; rm -f ${DIR}/not-a-backup`,
      );
  });

  it('the unit takes a backup on backend2: checksummed, GTID and both databases in the manifest, the rows in the dump, a verified copy on backend1', async () => {
    await must(
      'backend1',
      `mysql -e "CREATE DATABASE IF NOT EXISTS e2e_backup; CREATE TABLE IF NOT EXISTS e2e_backup.t (v VARCHAR(64)); INSERT INTO e2e_backup.t VALUES ('${tokens.other}'); CREATE TABLE IF NOT EXISTS kanka.e2e_backup (v VARCHAR(64)); INSERT INTO kanka.e2e_backup VALUES ('${tokens.app}')"`,
    );
    const replicating = /Slave_IO_Running: Yes[\s\S]*Slave_SQL_Running: Yes/.test(
      await must('backend2', 'mysql -e "SHOW SLAVE STATUS\\G"'),
    );
    if (replicating) {
      await waitFor(
        'the rows on the replica',
        async () =>
          (await sh('backend2', `mysql -N -e "SELECT v FROM kanka.e2e_backup WHERE v='${tokens.app}'"`)).out.trim() ===
          tokens.app,
        30000,
      );
    }
    const before = await backupIds('backend2');
    const t0 = Math.floor(Date.now() / 1000) - 1;
    const r = await backupNow();
    expect(r.code, r.out).toBe(0);
    expect(before).not.toContain(r.id);
    expect(r.id).toMatch(ID);

    for (const host of ['backend2', 'backend1']) {
      expect(await must(host, `cd ${DIR}/${r.id} && sha256sum -c SHA256SUMS`)).toBe('dump.sql.gz: OK\n');
      expect(await must(host, `ls -1 ${DIR}/${r.id}`)).toBe('SHA256SUMS\ndump.sql.gz\nmanifest\n');
      expect(await must(host, `stat -c '%a %U' ${DIR}/${r.id}/dump.sql.gz`)).toMatch(/^600 (root|kanka-backup)\n$/);
      expect(await partials(host)).toBe('');
    }
    // The copy is the same backup, byte for byte.
    expect(await must('backend1', `cat ${DIR}/${r.id}/SHA256SUMS ${DIR}/${r.id}/manifest`)).toBe(
      await must('backend2', `cat ${DIR}/${r.id}/SHA256SUMS ${DIR}/${r.id}/manifest`),
    );

    const m = keyValues(await must('backend2', `cat ${DIR}/${r.id}/manifest`));
    expect(m['id']).toBe(r.id);
    expect(m['host']).toBe('backend2');
    expect(m['role']).toBe('replica');
    expect(m['databases']?.split(' ')).toEqual(expect.arrayContaining(['e2e_backup', 'kanka']));
    expect(m['databases']?.split(' ')).not.toContain('mysql');
    expect(m['gtid']).toMatch(/^\d+-\d+-\d+(,\d+-\d+-\d+)*$/);
    // A replica that replicates is dumped itself; otherwise the primary, and the manifest says why.
    if (replicating) expect(m['source']).toBe('local');
    else
      expect([m['source'], m['note']]).toEqual([addr('backend1'), expect.stringContaining('dumped from the primary')]);
    expect(Number(m['started'])).toBeGreaterThanOrEqual(t0);
    expect(Number(m['finished'])).toBeGreaterThanOrEqual(Number(m['started']));
    expect(m['bytes']).toBe((await must('backend2', `stat -c %s ${DIR}/${r.id}/dump.sql.gz`)).trim());
    expect(Number(m['tables'])).toBeGreaterThanOrEqual(2);
    expect(m['copy_to']).toBe(addr('backend1'));

    // The rows of both databases are in the dump, with the GTID position as a comment.
    const dump = await must(
      'backend1',
      `gzip -dc ${DIR}/${r.id}/dump.sql.gz | grep -E "${tokens.app}|${tokens.other}|^CREATE DATABASE|gtid_slave_pos="`,
    );
    for (const t of [
      tokens.app,
      tokens.other,
      'CREATE DATABASE /*!32312 IF NOT EXISTS*/ `e2e_backup`',
      `-- SET GLOBAL gtid_slave_pos='${m['gtid']}';`,
    ])
      expect(dump).toContain(t);

    const status = keyValues(await must('backend2', `cat ${STATUS}`));
    expect(status).toMatchObject({ result: 'ok', id: r.id, copy: 'ok' });
    expect(Number(status['finished'])).toBeGreaterThanOrEqual(Number(m['finished']));
    // Logged in the journal.
    expect(
      await must('backend2', `journalctl -u kanka-mariadb-backup.service --since @${t0} --no-pager -o cat`),
    ).toContain(`backup ${r.id}: copied to backend1 (${addr('backend1')})`);
  });

  it('a replica whose SQL thread is stopped is not dumped: the primary is, and the manifest and journal say why', async () => {
    await must('backend2', 'mysql -e "STOP SLAVE SQL_THREAD"');
    try {
      const r = await backupNow();
      expect(r.code, r.out).toBe(0);
      const m = keyValues(await must('backend2', `cat ${DIR}/${r.id}/manifest`));
      expect(m['source']).toBe(addr('backend1'));
      expect(m['note']).toMatch(/Slave_SQL_Running=No\): dumped from the primary/);
      expect(m['gtid']).toMatch(/^\d+-\d+-\d+/);
      expect(
        await must('backend2', `gzip -dc ${DIR}/${r.id}/dump.sql.gz | grep -c -e ${tokens.app} -e ${tokens.other}`),
      ).toBe('2\n');
      expect(await must('backend2', `journalctl -u kanka-mariadb-backup.service -n 30 --no-pager -o cat`)).toContain(
        `backup ${r.id}: replication not running here`,
      );
    } finally {
      await must('backend2', 'mysql -e "START SLAVE SQL_THREAD"');
    }
  });

  it('a failing dump: result=failed in the status, the unit failed, no half backup left', async () => {
    const before = await backupIds('backend2');
    // A database that does not exist: mariadb-dump fails, as it would on a broken server.
    await must(
      'backend2',
      `cp -p ${CONF} /tmp/e2e-backup-conf && sed -i "s/^databases=.*/databases='e2e_no_such_db'/" ${CONF}`,
    );
    try {
      const r = await sh('backend2', 'systemctl start kanka-mariadb-backup.service');
      expect(r.code).not.toBe(0);
      expect((await sh('backend2', 'systemctl is-failed kanka-mariadb-backup.service')).out.trim()).toBe('failed');
      const status = keyValues(await must('backend2', `cat ${STATUS}`));
      expect(status['result']).toBe('failed');
      expect(status['message']).toMatch(/mariadb-dump exited \d+ on .*Unknown database/);
      expect(Number(status['finished'])).toBeGreaterThan(Date.now() / 1000 - 120);
      expect(await backupIds('backend2')).toEqual(before);
      expect(await partials('backend2')).toBe('');
      // drift says so (a problem: exit 2), with the server's words.
      const drift = await kanka(['drift', fleet?.inventoryFile ?? '']);
      expect(drift.code, drift.stdout.slice(-3000)).toBe(2);
      expect(drift.stdout).toMatch(
        /the last backup failed [\d.]+ h ago: mariadb-dump exited \d+ on local: .*Unknown database 'e2e_no_such_db'/,
      );
    } finally {
      await must(
        'backend2',
        `cp -p /tmp/e2e-backup-conf ${CONF} && systemctl reset-failed kanka-mariadb-backup.service`,
      );
    }
    // The next run is fine again, and says so.
    const ok = await backupNow();
    expect(ok.code, ok.out).toBe(0);
    expect(keyValues(await must('backend2', `cat ${STATUS}`))).toMatchObject({ result: 'ok', id: ok.id });
  });

  it('a copy that fails: the run is failed (copy=failed), the local backup is complete and kept', async () => {
    const keys = '/var/lib/kanka-backup/.ssh/authorized_keys';
    await must('backend1', `mv ${keys} ${keys}.e2e-off`);
    try {
      const r = await backupNow();
      expect(r.code).not.toBe(0);
      const status = keyValues(await must('backend2', `cat ${STATUS}`));
      expect(status).toMatchObject({ result: 'failed', id: r.id, copy: 'failed' });
      expect(status['message']).toContain(`failed while copying to backend1 (${addr('backend1')})`);
      expect(await must('backend2', `cd ${DIR}/${r.id} && sha256sum -c SHA256SUMS`)).toBe('dump.sql.gz: OK\n');
      expect(await backupIds('backend1')).not.toContain(r.id);
      expect(await partials('backend2')).toBe('');
    } finally {
      await must('backend1', `mv ${keys}.e2e-off ${keys}`);
      await must('backend2', 'systemctl reset-failed kanka-mariadb-backup.service');
    }
  });

  it('retention: beyond 7 backups or older than 14 days is deleted after a run, on both hosts; the newest never', async () => {
    const now = Date.now();
    const old = ['20200101T000000Z', '20200102T030405Z'];
    const recent = Array.from({ length: 7 }, (_, i) => idOf(now - (i + 1) * 3600_000));
    const fakes = [...old, ...recent];
    for (const [host, owner] of [
      ['backend2', 'root'],
      ['backend1', 'kanka-backup'],
    ] as const) {
      // Only our fakes and the next real backup in the directory; a stray file stays untouched.
      await must(
        host,
        `cd ${DIR} && rm -rf 2* && for id in ${fakes.join(' ')}; do mkdir -m 0700 $id && echo fake > $id/manifest; done && chown -R ${owner} 2* && touch ${DIR}/not-a-backup`,
      );
    }
    const r = await backupNow();
    expect(r.code, r.out).toBe(0);
    // 8 recent (the real one and 7 fakes): the oldest recent goes (count); the 2020 ones go (age).
    const kept = [...recent.slice(0, 6).reverse(), r.id];
    expect(await backupIds('backend2')).toEqual(kept);
    expect(await backupIds('backend1')).toEqual(kept);
    for (const host of ['backend2', 'backend1'])
      expect(await must(host, `ls ${DIR}/not-a-backup && rm ${DIR}/not-a-backup`)).toContain('not-a-backup');
    const journal = await must('backend2', `journalctl -u kanka-mariadb-backup.service -n 40 --no-pager -o cat`);
    expect(journal).toContain(`pruned ${recent[6]} (more than 7 backups)`);
    expect(journal).toContain('pruned 20200101T000000Z (older than 14 days)');

    // The newest backup is kept however old it is; the others are not.
    const only = await must(
      'backend2',
      `d=$(mktemp -d /tmp/e2e-backup-XXXX) && mkdir $d/20200101T000000Z $d/20190101T000000Z && /usr/local/lib/kanka-infra/mariadb-backup-prune $d 7 14 && ls $d`,
    );
    expect(only).toBe('pruned 20190101T000000Z (older than 14 days)\n20200101T000000Z\n');
  });

  it('a corrupted backup fails its checksum, and the copy host refuses it (and any path trick) with nothing left behind', async () => {
    const ids = await backupIds('backend2');
    const id = ids[ids.length - 1] ?? '';
    const fake = '20210101T000000Z';
    const copy = `/tmp/e2e-backup-corrupt/${fake}`;
    await must(
      'backend2',
      `mkdir -p ${copy} && cp ${DIR}/${id}/* ${copy}/ && sed -i 's/^id=.*/id=${fake}/' ${copy}/manifest && b=$(dd if=${copy}/dump.sql.gz bs=1 skip=100 count=1 status=none | od -An -tu1 | tr -d ' ') && { if [ "$b" = 255 ]; then printf '\\000'; else printf '\\377'; fi; } | dd of=${copy}/dump.sql.gz bs=1 seek=100 conv=notrunc status=none`,
    );
    const check = await sh('backend2', `cd ${copy} && sha256sum -c SHA256SUMS`);
    expect(check.code).not.toBe(0);
    expect(check.out).toContain('dump.sql.gz: FAILED');

    const ssh = `ssh -i /etc/kanka-infra/mariadb-backup/id_ed25519 -o BatchMode=yes -o IdentitiesOnly=yes -o UserKnownHostsFile=/var/lib/kanka-infra/mariadb-backup.known_hosts kanka-backup@${addr('backend1')}`;
    await must(
      'backend2',
      `${ssh} begin ${fake} </dev/null && for f in dump.sql.gz SHA256SUMS manifest; do ${ssh} put ${fake} $f < ${copy}/$f; done`,
    );
    const commit = await sh('backend2', `${ssh} commit ${fake} </dev/null`);
    expect(commit.code).toBe(2);
    expect(commit.out).toContain('checksum mismatch: copy of 20210101T000000Z discarded');
    expect(await backupIds('backend1')).not.toContain(fake);
    expect(await partials('backend1')).toBe('');

    // The key runs nothing but the receiver, which takes only ids and its three file names.
    for (const [request, refusal] of [
      ['begin ../../../etc', 'not a backup id'],
      [`put ${fake} ../../../../tmp/x`, 'not a backup file name'],
      ['id', 'not a backup id'],
      [`begin ${fake} extra`, 'begin takes an id'],
    ]) {
      const r = await sh('backend2', `${ssh} '${request}' </dev/null`);
      expect([r.code, r.out], request).toEqual([2, expect.stringContaining(`refused: ${refusal}`)]);
    }
    expect((await sh('backend1', 'ls /tmp/x')).code).not.toBe(0);
    // And only from the backup host: the same key from backend1 itself is refused by sshd.
    await must('backend1', 'mkdir -p /tmp/e2e-backup-key && chmod 700 /tmp/e2e-backup-key');
    const key = await must('backend2', 'cat /etc/kanka-infra/mariadb-backup/id_ed25519');
    await must('backend1', `cat > /tmp/e2e-backup-key/k <<'EOF'\n${key}EOF\nchmod 600 /tmp/e2e-backup-key/k`);
    const fromElsewhere = await sh(
      'backend1',
      `ssh -i /tmp/e2e-backup-key/k -o BatchMode=yes -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null kanka-backup@${addr('backend1')} begin ${fake} </dev/null; echo "exit=$?"; rm -rf /tmp/e2e-backup-key`,
    );
    expect(fromElsewhere.out).toContain('Permission denied');
  });

  it('a run while another one runs is refused and leaves the status and the directory alone', async () => {
    const before = await must('backend2', `cat ${STATUS}`);
    const ids = await backupIds('backend2');
    const r = await sh(
      'backend2',
      `flock ${DIR}/.lock sh -c '/usr/local/lib/kanka-infra/mariadb-backup; echo "exit=$?"'`,
    );
    expect(r.out).toContain('not started: another backup is running');
    expect(r.out).toContain('exit=75');
    expect(await must('backend2', `cat ${STATUS}`)).toBe(before);
    expect(await backupIds('backend2')).toEqual(ids);
    expect(await partials('backend2')).toBe('');
  });

  it('the timer runs on the backup host only', async () => {
    expect(
      (
        await sh(
          'backend2',
          'systemctl is-active kanka-mariadb-backup.timer; systemctl is-enabled kanka-mariadb-backup.timer',
        )
      ).out,
    ).toBe('active\nenabled\n');
    expect(
      (
        await sh(
          'backend1',
          'systemctl is-active kanka-mariadb-backup.timer; systemctl is-enabled kanka-mariadb-backup.timer',
        )
      ).out,
    ).toBe('inactive\ndisabled\n');
    expect(await must('backend2', 'systemctl show -P TimersCalendar kanka-mariadb-backup.timer')).toContain(
      'OnCalendar=*-*-* 02:30:00',
    );
  });

  it('after all that, plan exits 0: no changes', async () => {
    if (!fleet) return;
    const plan = await kanka(['plan', fleet.inventoryFile]);
    expect(plan.code, plan.stdout.slice(-3000)).toBe(0);
  });
});
