import { backupsFact, journalFact, type BackupEntry } from '../../db/facts.js';
import { describeBackup } from './db-describe.js';
import { DbStepError, type DbSession } from '../../db/session.js';
import { BACKUP_STATUS_FILE, BACKUP_UNIT, type DbTopology } from '../../db/topology.js';
import { sh } from '../../shell/command.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { write, type Io } from '../io.js';
import { loadDb, seconds, withHosts, type DbCliOptions } from './db-context.js';

/** Every MariaDB host's complete backups (the backup host's own and the copies). */
export async function backupsEverywhere(session: DbSession, topology: DbTopology): Promise<Map<string, BackupEntry[]>> {
  const hosts = [topology.primary, ...topology.replicas.map((r) => r.host)];
  const listed = await Promise.all(
    hosts.map(
      async (h) =>
        [h.name, (await session.read(h.name, backupsFact(topology.backup.dir, BACKUP_STATUS_FILE))).backups] as const,
    ),
  );
  return new Map(listed);
}

/**
 * `db backup <env>`: a backup now, before a risky change. Runs the backup role's own unit on the
 * backup host (the same job as the nightly timer: same dump, checksum, retention and copy) and waits
 * for it; says what it made and where the copies are.
 */
export async function backupCommand(
  env: string,
  opts: DbCliOptions,
  io: Io,
  argv: readonly string[],
): Promise<ExitCode> {
  const ctx = loadDb(env, opts, io, argv);
  const { topology } = ctx;
  const host = topology.backup.host.name;
  return withHosts(ctx, [topology.primary, ...topology.replicas.map((r) => r.host)], async (session) => {
    write(io.stderr, `db backup: running ${BACKUP_UNIT} on ${host} (as the nightly timer does)...`);
    await session.lock([host]);
    const started = Date.now();
    let outcome = 'failed';
    try {
      await session.run(host, [{ op: 'exec', command: sh`systemctl start ${BACKUP_UNIT}` }], `${BACKUP_UNIT}`);
      outcome = 'backed up';
    } catch (err) {
      if (!(err instanceof DbStepError)) throw err;
      const journal = await session.read(host, journalFact(BACKUP_UNIT, 15)).catch(() => '');
      throw new DbStepError(
        `${err.message}${journal ? `\nits journal (journalctl -u ${BACKUP_UNIT}):\n${journal}` : ''}`,
      );
    } finally {
      for (const p of await session.release(outcome, `db backup on ${host}`)) write(io.stderr, p);
    }
    const took = Date.now() - started;
    const listing = await session.read(host, backupsFact(topology.backup.dir, BACKUP_STATUS_FILE));
    const newest = listing.backups.at(-1);
    if (!newest || listing.status?.['result'] !== 'ok' || listing.status['id'] !== newest.id) {
      write(
        io.stderr,
        `db backup: ${BACKUP_UNIT} finished but ${BACKUP_STATUS_FILE} does not record a new backup: ${JSON.stringify(listing.status ?? {})}`,
      );
      return EXIT.HOST_FAILED;
    }
    const everywhere = await backupsEverywhere(session, topology);
    const copies = [...everywhere]
      .filter(([h, list]) => h !== host && list.some((b) => b.id === newest.id))
      .map(([h]) => h);
    write(io.stdout, `Backup ${describeBackup(newest)}; in ${seconds(took)}.`);
    write(
      io.stdout,
      `Kept in ${topology.backup.dir}/${newest.id} on ${host}${copies.length > 0 ? `, copied to ${copies.join(', ')}` : ' (no copy on another host: see mariadb_backup_copy_to and secrets.backup_ssh_key in docs/roles.md)'}.`,
    );
    return EXIT.OK;
  });
}
