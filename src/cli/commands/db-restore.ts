import { backupChecksumFact, databaseSizesFact, gtidBinlogPosFact, gtidWaitFact } from '../../db/facts.js';
import { DbStepError } from '../../db/session.js';
import { BACKUP_ID } from '../../db/topology.js';
import { sqlString } from '../../facts/mysql.js';
import { replicaFact } from '../../facts/replication.js';
import { replicaTrouble } from '../../modules/mariadb-replica.js';
import { lines, sh, type ShellCommand } from '../../shell/command.js';
import { UsageError } from '../../diagnostics/usage-error.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { write, type Io } from '../io.js';
import { backupsEverywhere } from './db-backup.js';
import { describeBackup, describeDatabases } from './db-describe.js';
import { requireYesOffTerminal } from './apply.js';
import { approve, loadDb, seconds, withHosts, type DbCliOptions } from './db-context.js';

export interface RestoreCliOptions extends DbCliOptions {
  from: string;
}

/** How long a replica may take to apply the restore before we say it has not caught up. */
const CATCH_UP_SECONDS = 600;

/**
 * The restore, as one script on the primary: the app's account is locked and its sessions ended
 * (writes stop), the dump is loaded through the binlog (so the replicas replay it), and the account
 * is unlocked whatever happens (trap), even if the connection drops half-way.
 */
export function restoreScript(backupDir: string, appUser: string): ShellCommand {
  const accounts = `SELECT CONCAT(QUOTE(User), '@', QUOTE(Host)) FROM mysql.user WHERE User = ${sqlString(appUser)}`;
  const sessions = `SELECT CONCAT('KILL CONNECTION ', ID, ';') FROM information_schema.PROCESSLIST WHERE USER = ${sqlString(appUser)}`;
  return lines([
    sh`set -eu`,
    sh`accounts=$(mysql --protocol=socket -N -B -e ${accounts})`,
    sh`unlock() { for a in $accounts; do mysql --protocol=socket -e "ALTER USER $a ACCOUNT UNLOCK" || echo "could not unlock $a: unlock it by hand" >&2; done; }`,
    sh`trap unlock EXIT`,
    sh`for a in $accounts; do mysql --protocol=socket -e "ALTER USER $a ACCOUNT LOCK"; done`,
    sh`mysql --protocol=socket -N -B -e ${sessions} | mysql --protocol=socket -f >/dev/null 2>&1 || true`,
    sh`gunzip -c ${`${backupDir}/dump.sql.gz`} | mysql --protocol=socket`,
  ]);
}

/**
 * `db restore <env> --from <backup>`: shows the backup and what it replaces, verifies its checksum
 * (a corrupted backup is refused), asks, stops the app's writes, restores on the primary through
 * the binlog, waits for every replica to replay it, and says how long each step took.
 */
export async function restoreCommand(
  env: string,
  opts: RestoreCliOptions,
  io: Io,
  argv: readonly string[],
): Promise<ExitCode> {
  if (opts.from !== 'latest' && !BACKUP_ID.test(opts.from)) {
    throw new UsageError(
      `--from must be "latest" or a backup name like 20261201T023000Z (the time it was taken, UTC), got "${opts.from}"`,
    );
  }
  const ctx = loadDb(env, opts, io, argv);
  requireYesOffTerminal(opts, io, 'db restore');
  const { topology } = ctx;
  const { primary, replicas, backup, appUser } = topology;
  const dbHosts = [primary, ...replicas.map((r) => r.host)];
  return withHosts(ctx, dbHosts, async (session) => {
    const everywhere = await backupsEverywhere(session, topology);
    const here = everywhere.get(primary.name) ?? [];
    const chosen = opts.from === 'latest' ? here.at(-1) : here.find((b) => b.id === opts.from);
    if (!chosen) {
      const elsewhere = [...everywhere]
        .filter(([, list]) => list.some((b) => opts.from === 'latest' || b.id === opts.from))
        .map(([h, list]) => `${h} (newest ${list.at(-1)?.id ?? '?'})`);
      throw new UsageError(
        `no backup ${opts.from === 'latest' ? '' : `${opts.from} `}in ${backup.dir} on ${primary.name}, the primary, where a restore runs. ` +
          (elsewhere.length > 0
            ? `Found on: ${elsewhere.join(', ')}: the copy to the primary is made by the backup job (mariadb_backup_copy_to); run kanka-infra db backup ${env} for a fresh one.`
            : `No host has ${opts.from === 'latest' ? 'any backup' : 'it'} (kanka-infra db backup ${env} takes one).`) +
          ' Nothing was changed.',
      );
    }
    const dir = `${backup.dir}/${chosen.id}`;
    const sum = await session.read(primary.name, backupChecksumFact(backup.dir, chosen.id));
    if (!sum.ok) {
      write(
        io.stderr,
        `error: refused: backup ${chosen.id} on ${primary.name} does not match its checksum, so it is not restored. Nothing was changed.\n${sum.output}`,
      );
      return EXIT.INVALID;
    }
    const current = await session.read(primary.name, databaseSizesFact());
    const inBackup = (chosen.manifest['databases'] ?? '').split(/\s+/).filter(Boolean);
    const replaced = current.filter((d) => inBackup.includes(d.name));
    const untouched = current.filter((d) => !inBackup.includes(d.name));
    const newer = [...everywhere.values()].flat().filter((b) => b.id > chosen.id).length;
    write(
      io.stderr,
      [
        `db restore onto ${primary.name} (the primary)`,
        `  backup:    ${describeBackup(chosen)}; checksum verified on ${primary.name}${newer > 0 ? ` (${newer} newer backup(s) exist)` : ''}`,
        `  replaces:  ${describeDatabases(replaced)}${inBackup
          .filter((n) => !current.some((d) => d.name === n))
          .map((n) => `, ${n} (missing now: created)`)
          .join('')} - dropped and loaded from the backup`,
        `  untouched: ${untouched.length > 0 ? `${untouched.map((d) => d.name).join(', ')} (not in the backup)` : 'nothing else'}`,
        `  replicas:  ${replicas.map((r) => r.host.name).join(', ') || 'none'} ${replicas.length === 1 ? 'replays' : 'replay'} the restore through replication`,
        `  writes:    the app's MariaDB account "${appUser}" is locked and its sessions ended during the restore (the app answers errors meanwhile), then unlocked`,
      ].join('\n'),
    );
    if (
      !(await approve(
        ctx,
        opts,
        `Replace ${inBackup.join(', ')} on ${primary.name}${replicas.length > 0 ? ' and its replicas' : ''} with backup ${chosen.id}?`,
      ))
    )
      return EXIT.INVALID;

    await session.lock(dbHosts.map((h) => h.name));
    const started = Date.now();
    let outcome = 'failed';
    let restoredMs = 0;
    const caughtUp: string[] = [];
    const behind: string[] = [];
    try {
      await session.run(
        primary.name,
        [{ op: 'exec', command: restoreScript(dir, appUser) }],
        `the restore of ${chosen.id}`,
      );
      restoredMs = Date.now() - started;
      outcome = 'restored';
      const pos = await session.read(primary.name, gtidBinlogPosFact());
      await Promise.all(
        replicas.map(async (r) => {
          const t0 = Date.now();
          const done = pos === '' || (await session.read(r.host.name, gtidWaitFact(pos, CATCH_UP_SECONDS)));
          const state = await session.read(r.host.name, replicaFact(r.settings.settings, r.settings.stamp));
          const trouble = !state.available
            ? state.reason
            : state.status
              ? replicaTrouble(state.status, r.settings.max_lag_seconds)
              : 'not replicating';
          if (done && !trouble) caughtUp.push(`${r.host.name} in ${seconds(Date.now() - t0)}`);
          else
            behind.push(
              `${r.host.name}: ${trouble ?? `has not replayed the restore after ${CATCH_UP_SECONDS} s`} (to rebuild it: kanka-infra db reseed ${ctx.env} ${r.host.name})`,
            );
        }),
      );
    } catch (err) {
      if (err instanceof DbStepError)
        throw new DbStepError(
          `${err.message}\nThe app's account was unlocked again (or the line above says why not). Check the databases on ${primary.name} before anything else.`,
        );
      throw err;
    } finally {
      for (const p of await session.release(outcome, `db restore ${chosen.id} on ${primary.name}`)) write(io.stderr, p);
    }
    write(
      io.stdout,
      `Restored backup ${chosen.id} on ${primary.name} in ${seconds(restoredMs)} (the app's writes were stopped that long); ${replicas.length === 0 ? 'no replica' : `replicas caught up: ${caughtUp.join(', ') || 'none'}`}. Total ${seconds(Date.now() - started)}.`,
    );
    if (behind.length > 0) {
      write(io.stderr, `Not caught up:\n  ${behind.join('\n  ')}`);
      return EXIT.HOST_FAILED;
    }
    return EXIT.OK;
  });
}
