import { describe, expect, it } from 'vitest';
import { factReader } from '../../../src/facts/fact.js';
import { parseReplica, replicaFact, type ReplicaState } from '../../../src/facts/replication.js';
import type { PlanResult } from '../../../src/modules/change.js';
import { mariadbReplicaModule, replicaTrouble, withoutStatement } from '../../../src/modules/mariadb-replica.js';
import type { TaskContext } from '../../../src/modules/module.js';

const args = mariadbReplicaModule.args.parse({
  primary: '10.0.0.21',
  primary_name: 'backend1',
  settings: '/root/.kanka-change-master.sql',
  seed: '/usr/local/lib/kanka-infra/mariadb-seed-replica',
  max_lag_seconds: 30,
});
const ctx: TaskContext = {
  host: 'backend2',
  roleDir: '/nowhere',
  vars: { env: 'prod' },
  readRoleFile: () => Buffer.alloc(0),
};
const fact = replicaFact('/root/.kanka-change-master.sql', '/var/lib/kanka-infra/mariadb-replica.pointed');

function plan(state: ReplicaState | { available: false; reason: string }): PlanResult {
  return mariadbReplicaModule.plan(args, factReader(new Map([[fact.id, state]])), ctx);
}

/** SHOW SLAVE STATUS\G as MariaDB 10.11 prints it (the fields the module reads, and a few more). */
function statusOutput(fields: Record<string, string>): string {
  const all = {
    Slave_IO_State: 'Waiting for master to send event',
    Master_Host: '10.0.0.21',
    Master_User: 'repl',
    Slave_IO_Running: 'Yes',
    Slave_SQL_Running: 'Yes',
    Last_Errno: '0',
    Last_Error: '',
    Seconds_Behind_Master: '0',
    Last_IO_Errno: '0',
    Last_IO_Error: '',
    Last_SQL_Errno: '0',
    Last_SQL_Error: '',
    Using_Gtid: 'Slave_Pos',
    Gtid_IO_Pos: '0-1822798110-42',
    ...fields,
  };
  return [
    '*************************** 1. row ***************************',
    ...Object.entries(all).map(([k, v]) => `${k.padStart(30)}: ${v}`),
  ].join('\n');
}

function output(status: string, dbs: string[], settings = 'aaa', pointed = 'aaa'): string {
  return [
    'ok',
    '--kanka-section-status',
    status,
    '--kanka-section-databases',
    ...dbs,
    '--kanka-section-settings',
    settings,
    '--kanka-section-pointed',
    pointed,
    '',
  ].join('\n');
}

describe('the replica status fact', () => {
  it('reads the fields, the application databases and the settings hashes', () => {
    const s = parseReplica(
      output(
        statusOutput({ Last_SQL_Error: "Error executing row event: 'Table 'holdout.t' doesn't exist'" }),
        ['holdout', 'kanka'],
        'abc  -',
        'def',
      ),
    );
    expect(s.status?.['Last_SQL_Error']).toBe("Error executing row event: 'Table 'holdout.t' doesn't exist'");
    expect(s.status?.['Master_Host']).toBe('10.0.0.21');
    expect(s.databases).toEqual(['holdout', 'kanka']);
    expect(s.settingsHash).toBe('abc');
    expect(s.pointedHash).toBe('def');
  });

  it('a server that replicates from nobody has no status', () => {
    const s = parseReplica(output('', []));
    expect(s.status).toBeUndefined();
    expect(s.databases).toEqual([]);
  });

  it('rejects output it does not understand', () => {
    expect(() => parseReplica('ok\nsomething else\n')).toThrow(/unexpected replica status output/);
  });

  it('reads the vertical status with field names (not the -N client the other facts use)', () => {
    expect(fact.script().text).toContain("mysql --protocol=socket -e 'SHOW SLAVE STATUS\\G'");
  });
});

describe('mariadb_replica', () => {
  it('seeds an empty replica, and only an empty one', () => {
    const r = plan(parseReplica(output('', [])));
    expect(r.status).toBe('change');
    if (r.status !== 'change') return;
    expect(r.changes[0]?.subject).toMatch(
      /seed this replica from backend1 \(10\.0\.0\.21\): every application database/,
    );
    expect(r.changes[0]?.ops).toEqual([
      {
        op: 'exec',
        command: expect.objectContaining({ text: '/usr/local/lib/kanka-infra/mariadb-seed-replica 10.0.0.21' }),
      },
    ]);
    // After the seed: replicating, settings recorded: nothing to do.
    expect(plan(parseReplica(output(statusOutput({}), ['kanka']))).status).toBe('ok');
  });

  it('never seeds over data: a server with databases that does not replicate is a problem with the reseed command', () => {
    const r = plan(parseReplica(output('', ['holdout', 'kanka'])));
    expect(r).toEqual({
      status: 'problem',
      problem:
        'not replicating from backend1, and this server holds data (databases: holdout, kanka): apply never replaces data',
      fix: 'run `kanka-infra db reseed prod backend2` (it shows what it replaces and asks)',
    });
  });

  it('reports a stopped SQL thread with the server error, and changes nothing', () => {
    const r = plan(
      parseReplica(
        output(
          statusOutput({
            Slave_SQL_Running: 'No',
            Last_SQL_Errno: '1146',
            Last_SQL_Error: "Error executing row event: 'Table 'holdout.t' doesn't exist'",
          }),
          ['kanka'],
        ),
      ),
    );
    expect(r.status).toBe('problem');
    if (r.status !== 'problem') return;
    expect(r.problem).toBe(
      "replication is stopped: the SQL thread is not running (Last_SQL_Errno 1146: Error executing row event: 'Table 'holdout.t' doesn't exist')",
    );
    expect(r.fix).toContain('kanka-infra db reseed prod backend2');
  });

  it('reports an IO thread that cannot connect, and lag over the limit', () => {
    expect(
      replicaTrouble(
        {
          Slave_SQL_Running: 'Yes',
          Slave_IO_Running: 'Connecting',
          Last_IO_Errno: '1045',
          Last_IO_Error: "Access denied for user 'repl'",
        },
        30,
      ),
    ).toBe(
      "replication is not receiving from the primary: Slave_IO_Running is Connecting (Last_IO_Errno 1045: Access denied for user 'repl')",
    );
    expect(replicaTrouble({ Slave_SQL_Running: 'Yes', Slave_IO_Running: 'Yes', Seconds_Behind_Master: '31' }, 30)).toBe(
      'replication is lagging: Seconds_Behind_Master 31 (the limit is 30 s)',
    );
    expect(
      replicaTrouble({ Slave_SQL_Running: 'Yes', Slave_IO_Running: 'Yes', Seconds_Behind_Master: '30' }, 30),
    ).toBeUndefined();
    expect(
      replicaTrouble({ Slave_SQL_Running: 'Yes', Slave_IO_Running: 'Yes', Seconds_Behind_Master: 'NULL' }, 30),
    ).toMatch(/unknown/);
  });

  it('a replica of another server is a problem, not something apply re-points', () => {
    const r = plan(parseReplica(output(statusOutput({ Master_Host: '10.0.0.99' }), ['kanka'])));
    expect(r.status).toBe('problem');
    if (r.status === 'problem')
      expect(r.problem).toBe('replicates from 10.0.0.99, not from the primary backend1 (10.0.0.21)');
  });

  it('re-points (keeping its position) when the settings changed, then has nothing to do', () => {
    const r = plan(
      parseReplica(
        output(
          statusOutput({ Slave_IO_Running: 'Connecting', Last_IO_Errno: '1045', Last_IO_Error: 'Access denied' }),
          ['kanka'],
          'new',
          'old',
        ),
      ),
    );
    expect(r.status).toBe('change');
    if (r.status !== 'change') return;
    expect(r.changes[0]?.subject).toBe('re-point replication to backend1 (10.0.0.21) with the current settings');
    expect(r.changes[0]?.details).toEqual(['the replication settings changed', 'keeps its position (GTID)']);
    const op = r.changes[0]?.ops[0];
    expect(op?.op === 'exec' ? op.command.text : '').toBe(
      "{ echo 'STOP SLAVE;'; cat /root/.kanka-change-master.sql; } | mysql --protocol=socket && sha256sum < /root/.kanka-change-master.sql | cut -d' ' -f1 > /var/lib/kanka-infra/mariadb-replica.pointed.tmp && mv /var/lib/kanka-infra/mariadb-replica.pointed.tmp /var/lib/kanka-infra/mariadb-replica.pointed",
    );
    // After the re-point the stamp matches and the IO thread runs: nothing to do.
    expect(plan(parseReplica(output(statusOutput({}), ['kanka'], 'new', 'new'))).status).toBe('ok');
  });

  it('cannot be planned while MariaDB is not usable (reported, so a first apply defers it)', () => {
    expect(() => plan({ available: false, reason: 'client not installed' })).toThrow(
      /MariaDB is not usable on this host: client not installed/,
    );
  });
});

describe('replication errors in reports', () => {
  it('never carry the statement MariaDB quotes (it can hold a password): the error stays, the query goes', () => {
    const leaked =
      "Error 'Operation ALTER USER failed for 'kanka'@'10.0.0.21'' on query. Default database: ''. Query: 'ALTER USER 'kanka'@'10.0.0.21' IDENTIFIED BY 'pa\\'ss\\\\word''";
    const text = replicaTrouble({ Slave_SQL_Running: 'No', Last_SQL_Errno: '1396', Last_SQL_Error: leaked }, 30) ?? '';
    expect(text).toBe(
      "replication is stopped: the SQL thread is not running (Last_SQL_Errno 1396: Error 'Operation ALTER USER failed for 'kanka'@'10.0.0.21'' on query. Default database: ''. Query: (not shown: it may hold passwords or personal data; SHOW SLAVE STATUS on the host has it))",
    );
    expect(text).not.toContain('IDENTIFIED');
    expect(withoutStatement("Could not execute Write_rows_v1 event on table holdout.t; Can't find record")).toBe(
      "Could not execute Write_rows_v1 event on table holdout.t; Can't find record",
    );
  });
});
