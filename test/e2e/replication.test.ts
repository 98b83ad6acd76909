import { beforeAll, describe, expect, it } from 'vitest';
import { httpsGet, waitFor } from './http.js';
import { fleetOrSkip, kanka, hostShell, convergeSite } from './support.js';

const { fleet, reason } = fleetOrSkip();
const addr = (name: string) => fleet?.hosts.find((h) => h.name === name)?.address ?? '';

const { must } = hostShell(fleet);

const slaveStatus = (field: string) => `mysql -e 'SHOW SLAVE STATUS\\G' | sed -n 's/^ *${field}: //p'`;

describe.skipIf(!fleet)(
  `a broken replica is reported, never re-seeded by apply, rebuilt by db reseed${reason ? ` (skipped: ${reason})` : ''}`,
  () => {
    let inv = '';
    const token = `r-${Date.now()}`;

    beforeAll(async () => {
      if (!fleet) return;
      inv = fleet.inventoryFile;
      await convergeSite(inv);
      await must(
        'backend1',
        `mysql -e "CREATE DATABASE IF NOT EXISTS holdout; DROP TABLE IF EXISTS holdout.t; CREATE TABLE holdout.t (v VARCHAR(64)); INSERT INTO holdout.t VALUES ('${token}-before')"`,
      );
      await waitFor(
        'the row on backend2',
        async () =>
          (await must('backend2', `mysql -N -e "SELECT COUNT(*) FROM holdout.t WHERE v='${token}-before'"`)).trim() ===
          '1',
        15000,
      );
    }, 900_000);

    it('a write the replica cannot apply: drift exits 2 with the server error; apply changes nothing there and says to run db reseed; /healthz takes it out of rotation', async () => {
      // Break it on purpose: the replica loses the table (outside replication), the primary writes to it.
      await must('backend2', 'mysql -e "SET SESSION sql_log_bin = 0; DROP TABLE holdout.t"');
      await must(
        'backend2',
        `mysql -e "SET SESSION sql_log_bin = 0; CREATE TABLE kanka.only_here (v VARCHAR(64)); INSERT INTO kanka.only_here VALUES ('${token}')"`,
      );
      await must('backend1', `mysql -e "INSERT INTO holdout.t VALUES ('${token}-breaks')"`);
      await waitFor(
        'the SQL thread to stop',
        async () => (await must('backend2', slaveStatus('Slave_SQL_Running'))).trim() === 'No',
        15000,
      );

      const drift = await kanka(['drift', inv]);
      expect(drift.code, drift.stdout.slice(-2000)).toBe(2);
      expect(drift.stdout).toMatch(
        /^ {2}! backend2 +replication is stopped: the SQL thread is not running \(Last_SQL_Errno 1146: .*Table 'holdout\.t' doesn't exist/m,
      );
      // The statement MariaDB quotes in its error is not shown (it can hold a password).
      expect(drift.stdout).not.toMatch(/Query: '/);
      expect(drift.stdout).toContain(`to fix: run \`kanka-infra db reseed kanka backend2\``);
      expect(drift.stdout).toMatch(/problems? needs? a person: .*backend2 \(replica of the primary, replicating\)/);

      const apply = await kanka(['apply', inv, '--yes']);
      expect(apply.code, apply.stdout.slice(-2000)).toBe(2);
      expect(apply.stdout).toContain('to fix: run `kanka-infra db reseed kanka backend2`');
      expect(apply.stdout).not.toMatch(/seed this replica/);
      // Its data is as it was: nothing was reset or reloaded.
      expect(await must('backend2', 'mysql -N -e "SELECT v FROM kanka.only_here"')).toBe(`${token}\n`);
      expect((await must('backend2', slaveStatus('Slave_SQL_Running'))).trim()).toBe('No');

      // The read path: its /healthz fails on the replica, so the frontends send it nothing.
      const health = await must('backend2', 'curl -s localhost/healthz');
      expect(health).toMatch(/"replica":"failed: replication stopped/);
      await waitFor(
        'only backend1 serving',
        async () => {
          const seen = new Set<string>();
          for (let i = 0; i < 6; i++)
            seen.add((await httpsGet(addr('frontend1'), '/healthz')).headers['x-served-by'] ?? '');
          return seen.size === 1 && seen.has('backend1');
        },
        20000,
      );
      // ...which the frontends' health checks report too.
      const later = await kanka(['drift', inv]);
      expect(later.stdout).toMatch(
        /^ {2}! frontend1 +varnish marks 1 backend down: backend2 \(boot\.be1\): probe sick/m,
      );
    });

    it('db reseed shows the error and what it replaces, rebuilds it, and replication runs again', async () => {
      const r = await kanka(['db', 'reseed', inv, 'backend2', '--yes']);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stderr).toMatch(/now: {6}replication is stopped: the SQL thread is not running \(Last_SQL_Errno 1146/);
      expect(r.stderr).toMatch(/replaced: .*holdout \(0 tables.*kanka \(/);
      expect(r.stdout).toMatch(/^Re-seeded backend2 from backend1 in \d+\.\d s: holdout, kanka; replicating/m);
      // A copy of the primary now: its rows, not the local-only table; writes flow again.
      expect(await must('backend2', 'mysql -N -e "SELECT v FROM holdout.t ORDER BY v"')).toBe(
        `${token}-before\n${token}-breaks\n`,
      );
      expect(
        await must(
          'backend2',
          "mysql -N -e \"SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA='kanka' AND TABLE_NAME='only_here'\"",
        ),
      ).toBe('0\n');
      await must('backend1', `mysql -e "INSERT INTO holdout.t VALUES ('${token}-after')"`);
      await waitFor(
        'the new row on backend2',
        async () =>
          (await must('backend2', `mysql -N -e "SELECT COUNT(*) FROM holdout.t WHERE v='${token}-after'"`)).trim() ===
          '1',
        15000,
      );
      await waitFor(
        'backend2 healthy again',
        async () => (await must('backend2', 'curl -s localhost/healthz')).includes('"status":"ok"'),
        20000,
      );
      const drift = await kanka(['drift', inv]);
      expect(drift.code, drift.stdout.slice(-2000)).toBe(0);
    });

    it('refuses what it must not do: the primary, a host that is not a replica, no --yes off a terminal', async () => {
      const primary = await kanka(['db', 'reseed', inv, 'backend1', '--yes']);
      expect(primary.code).toBe(1);
      expect(primary.stderr).toContain('backend1 is the primary: reseed rebuilds a replica from it.');
      const other = await kanka(['db', 'reseed', inv, 'thumbor', '--yes']);
      expect(other.code).toBe(1);
      expect(other.stderr).toContain('thumbor is not a MariaDB replica');
      const noYes = await kanka(['db', 'reseed', inv, 'backend2']);
      expect(noYes.code).toBe(1);
      expect(noYes.stderr).toContain('db reseed needs --yes when not run on a terminal (nothing was changed)');
    });
  },
);
