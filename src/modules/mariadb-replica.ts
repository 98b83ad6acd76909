import { z } from 'zod';
import { hostAddress } from '../values/values.js';
import { replicaFact, type ReplicaFields, type ReplicaState } from '../facts/replication.js';
import { sh } from '../shell/command.js';
import { changes, noop, PlanError, problem, type PlanResult } from './change.js';
import { absolutePath } from './common.js';
import { defineModule, type TaskContext } from './module.js';

const args = z
  .strictObject({
    primary: hostAddress.describe("the primary's address, as the replica connects to it"),
    primary_name: z.string().min(1).describe('the primary host, for messages'),
    settings: absolutePath.describe('root-only SQL file: CHANGE MASTER TO ... (with the credentials); START SLAVE'),
    seed: absolutePath.describe(
      'script that seeds an EMPTY replica from the primary (called with the primary address)',
    ),
    stamp: absolutePath
      .default('/var/lib/kanka-infra/mariadb-replica.pointed')
      .describe('records the sha256 of the settings replication was last pointed with'),
    max_lag_seconds: z
      .number()
      .int()
      .nonnegative()
      .default(300)
      .describe('a replica further behind than this is a problem'),
  })
  .describe(
    'a MariaDB replica: seeded only when it holds no data, re-pointed when its settings change, and watched (never reset by apply)',
  );

type ReplicaArgs = z.infer<typeof args>;

function fact(a: ReplicaArgs) {
  return replicaFact(a.settings, a.stamp);
}

/** The command that rebuilds this replica on request (the fix for anything apply will not do). */
function reseedCommand(ctx: TaskContext): string {
  const env = typeof ctx.vars['env'] === 'string' ? ctx.vars['env'] : '<env>';
  return `kanka-infra db reseed ${env} ${ctx.host}`;
}

/**
 * A replication error without the statement MariaDB quotes in it ("... Query: 'ALTER USER ...
 * IDENTIFIED BY ...'"): a statement can hold a password or personal data, and this text goes to
 * terminals, cron mail and chat webhooks. The error itself stays, in the server's words.
 */
export function withoutStatement(error: string): string {
  const at = error.search(/[.;]? ?Query: '/);
  return at < 0
    ? error
    : `${error.slice(0, at)}. Query: (not shown: it may hold passwords or personal data; SHOW SLAVE STATUS on the host has it)`;
}

/** What is wrong with a configured replica, in the server's own words; undefined when it is healthy. */
export function replicaTrouble(s: ReplicaFields, maxLag: number): string | undefined {
  const io = s['Slave_IO_Running'] ?? '';
  const sql = s['Slave_SQL_Running'] ?? '';
  if (sql !== 'Yes') {
    const err = withoutStatement(s['Last_SQL_Error'] || s['Last_Error'] || 'no error recorded');
    return `replication is stopped: the SQL thread is not running (Last_SQL_Errno ${s['Last_SQL_Errno'] ?? '?'}: ${err})`;
  }
  if (io !== 'Yes') {
    const err = withoutStatement(s['Last_IO_Error'] || 'no error recorded');
    return `replication is not receiving from the primary: Slave_IO_Running is ${io || 'unknown'} (Last_IO_Errno ${s['Last_IO_Errno'] ?? '?'}: ${err})`;
  }
  const behind = s['Seconds_Behind_Master'] ?? 'NULL';
  if (behind === 'NULL' || behind === '') return 'replication lag is unknown (Seconds_Behind_Master is NULL)';
  if (Number(behind) > maxLag)
    return `replication is lagging: Seconds_Behind_Master ${behind} (the limit is ${maxLag} s)`;
  return undefined;
}

export const mariadbReplicaModule = defineModule<ReplicaArgs>({
  name: 'mariadb_replica',
  description:
    "A MariaDB replica of the primary (GTID). An empty one is seeded; one whose settings (credentials, address) changed is re-pointed at the same position; a broken, lagging or unseeded replica that holds data is reported as a problem with the server's error, and left untouched: rebuilding it is `kanka-infra db reseed`.",
  args,
  facts: (a) => [fact(a)],
  plan(a, facts, ctx): PlanResult {
    const got = facts.get(fact(a));
    if (!got.available) throw new PlanError(`MariaDB is not usable on this host: ${got.reason}`);
    const state: ReplicaState = got;
    const fix = `run \`${reseedCommand(ctx)}\` (it shows what it replaces and asks)`;
    if (!state.status) {
      if (state.databases.length > 0) {
        return problem(
          `not replicating from ${a.primary_name}, and this server holds data (databases: ${state.databases.join(', ')}): apply never replaces data`,
          fix,
        );
      }
      return changes({
        action: 'run',
        subject: `seed this replica from ${a.primary_name} (${a.primary}): every application database, then replicate`,
        details: ['an empty replica: no application database yet'],
        ops: [{ op: 'exec', command: sh`${a.seed} ${a.primary}` }],
      });
    }
    const master = state.status['Master_Host'] ?? '';
    if (master !== a.primary)
      return problem(
        `replicates from ${master || 'nobody'}, not from the primary ${a.primary_name} (${a.primary})`,
        fix,
      );
    if (state.settingsHash !== undefined && state.settingsHash !== state.pointedHash) {
      // Same primary, new credentials or options: point again at the position it has (no data moves).
      return changes({
        action: 'run',
        subject: `re-point replication to ${a.primary_name} (${a.primary}) with the current settings`,
        details: [
          state.pointedHash ? 'the replication settings changed' : 'settings not recorded yet',
          'keeps its position (GTID)',
        ],
        ops: [
          {
            op: 'exec',
            command: sh`{ echo 'STOP SLAVE;'; cat ${a.settings}; } | mysql --protocol=socket && sha256sum < ${a.settings} | cut -d' ' -f1 > ${a.stamp}.tmp && mv ${a.stamp}.tmp ${a.stamp}`,
          },
        ],
      });
    }
    const trouble = replicaTrouble(state.status, a.max_lag_seconds);
    if (trouble) return problem(trouble, fix);
    return noop(
      `replicating from ${a.primary_name} (${a.primary}), ${state.status['Seconds_Behind_Master'] ?? '?'} s behind, GTID ${state.status['Gtid_IO_Pos'] || 'none yet'}`,
    );
  },
});
