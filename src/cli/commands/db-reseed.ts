import { databaseSizesFact } from '../../db/facts.js';
import { describeDatabases } from './db-describe.js';
import { DbStepError } from '../../db/session.js';
import { replicaFact } from '../../facts/replication.js';
import { replicaTrouble } from '../../modules/mariadb-replica.js';
import { sh } from '../../shell/command.js';
import { UsageError } from '../../diagnostics/usage-error.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { write, type Io } from '../io.js';
import { requireYesOffTerminal } from './apply.js';
import { approve, loadDb, seconds, withHosts, type DbCliOptions } from './db-context.js';

/**
 * `db reseed <env> <host>`: the only way kanka-infra replaces a replica's data. Shows the replica's
 * state in the server's words and what will be replaced, asks, then runs the role's seeding script
 * with --force under the host's run lock, and checks replication runs afterwards.
 */
export async function reseedCommand(
  env: string,
  hostName: string,
  opts: DbCliOptions,
  io: Io,
  argv: readonly string[],
): Promise<ExitCode> {
  const ctx = loadDb(env, opts, io, argv);
  const { primary, replicas } = ctx.topology;
  const replica = replicas.find((r) => r.host.name === hostName);
  if (!replica) {
    if (hostName === primary.name)
      throw new UsageError(
        `${hostName} is the primary: reseed rebuilds a replica from it. To bring back data on the primary, use: kanka-infra db restore ${env} --from <backup>`,
      );
    throw new UsageError(
      `${hostName} is not a MariaDB replica in ${ctx.project.inventory.file} (replicas: ${replicas.map((r) => r.host.name).join(', ') || 'none'})`,
    );
  }
  requireYesOffTerminal(opts, io, 'db reseed');
  const s = replica.settings;
  return withHosts(ctx, [primary, replica.host], async (session) => {
    const state = await session.read(hostName, replicaFact(s.settings, s.stamp));
    if (!state.available)
      throw new DbStepError(
        `${hostName}: MariaDB is not usable: ${state.reason}. Apply the site first (kanka-infra apply ${env}).`,
      );
    const [local, upstream] = await Promise.all([
      session.read(hostName, databaseSizesFact()),
      session.read(primary.name, databaseSizesFact()),
    ]);
    const now = state.status
      ? (replicaTrouble(state.status, s.max_lag_seconds) ??
        `replicating from ${state.status['Master_Host'] ?? '?'}, ${state.status['Seconds_Behind_Master'] ?? '?'} s behind`)
      : 'not replicating';
    const dropped = local.filter((d) => !upstream.some((u) => u.name === d.name));
    write(
      io.stderr,
      [
        `db reseed ${hostName}: rebuild this MariaDB replica from ${primary.name} (${s.primary})`,
        `  now:      ${now}`,
        `  replaced: ${describeDatabases(local)}${dropped.length > 0 ? ` (${dropped.map((d) => d.name).join(', ')} only here: dropped)` : ''}`,
        `  by:       a consistent dump of ${primary.name}: ${describeDatabases(upstream)}, with its accounts; then replication from the dump's GTID position`,
        `  meanwhile: ${primary.name} keeps serving (the dump is one transaction, no lock); ${hostName}'s /healthz fails until replication runs, so the frontends send it no traffic`,
      ].join('\n'),
    );
    if (!(await approve(ctx, opts, `Replace the databases of ${hostName} with a copy of ${primary.name}'s?`)))
      return EXIT.INVALID;
    await session.lock([hostName]);
    const started = Date.now();
    let outcome = 'failed';
    try {
      // The seeding script of this configuration, not whatever copy the host has: what runs is what was reviewed.
      const op =
        replica.seedScript !== undefined
          ? { op: 'exec' as const, command: sh`sh -s -- ${s.primary} --force`, stdin: replica.seedScript }
          : { op: 'exec' as const, command: sh`${s.seed} ${s.primary} --force` };
      await session.run(hostName, [op], 'the re-seed');
      outcome = 'reseeded';
    } finally {
      for (const p of await session.release(outcome, `db reseed ${hostName} from ${primary.name}`)) write(io.stderr, p);
    }
    const took = Date.now() - started;
    const after = await session.read(hostName, replicaFact(s.settings, s.stamp));
    const trouble = after.available
      ? after.status
        ? replicaTrouble(after.status, s.max_lag_seconds)
        : 'not replicating'
      : after.reason;
    if (trouble) {
      write(io.stderr, `db reseed ${hostName}: loaded in ${seconds(took)}, but replication is not healthy: ${trouble}`);
      return EXIT.HOST_FAILED;
    }
    const gtid = after.available && after.status ? after.status['Gtid_IO_Pos'] : '';
    write(
      io.stdout,
      `Re-seeded ${hostName} from ${primary.name} in ${seconds(took)}: ${upstream.map((d) => d.name).join(', ') || 'no application database'}; replicating${gtid ? ` (GTID ${gtid})` : ''}.`,
    );
    return EXIT.OK;
  });
}
