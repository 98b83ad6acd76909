import { lines, sh } from '../shell/command.js';
import { scriptFact, type Fact } from '../facts/fact.js';
import { MYSQL, sqlString } from '../facts/mysql.js';
import { SYSTEM_DATABASES } from '../facts/replication.js';

const NOT_SYSTEM = SYSTEM_DATABASES.map((d) => `'${d}'`).join(', ');

export interface DatabaseSize {
  name: string;
  tables: number;
  /** InnoDB's estimate. */
  rows: number;
  bytes: number;
}

/** Every application database with its table count, estimated rows and size. */
export function databaseSizesFact(): Fact<DatabaseSize[]> {
  const sql = `SELECT s.SCHEMA_NAME, COUNT(t.TABLE_NAME), COALESCE(SUM(t.TABLE_ROWS), 0), COALESCE(SUM(t.DATA_LENGTH + t.INDEX_LENGTH), 0) FROM information_schema.SCHEMATA s LEFT JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = s.SCHEMA_NAME WHERE s.SCHEMA_NAME NOT IN (${NOT_SYSTEM}) GROUP BY s.SCHEMA_NAME ORDER BY s.SCHEMA_NAME`;
  return scriptFact(
    'database-sizes',
    {},
    () => sh`${MYSQL} -e ${sql}`,
    (out) =>
      out
        .split('\n')
        .filter((l) => l.includes('\t'))
        .map((l) => {
          const [name = '', tables = '0', rows = '0', bytes = '0'] = l.split('\t');
          return { name, tables: Number(tables), rows: Number(rows), bytes: Number(bytes) };
        }),
  );
}

/** The GTID position of everything this server has written to its binlog. */
export function gtidBinlogPosFact(): Fact<string> {
  return scriptFact(
    'gtid-binlog-pos',
    {},
    () => sh`${MYSQL} -e 'SELECT @@gtid_binlog_pos'`,
    (out) => out.trim(),
  );
}

/** Waits (at most `seconds`) until this replica has applied `pos`: true when it has. */
export function gtidWaitFact(pos: string, seconds: number): Fact<boolean> {
  return scriptFact(
    'gtid-wait',
    { pos, seconds: String(seconds) },
    () => sh`${MYSQL} -e ${`SELECT MASTER_GTID_WAIT(${sqlString(pos)}, ${seconds})`}`,
    (out) => out.trim() === '0',
  );
}

/** The last lines a systemd unit logged. */
export function journalFact(unit: string, n: number): Fact<string> {
  return scriptFact(
    'journal',
    { unit, n: String(n) },
    () => sh`journalctl -u ${unit} -n ${n} --no-pager -o cat 2>&1 || true`,
    (out) => out.trimEnd(),
  );
}

export interface BackupEntry {
  id: string;
  manifest: Record<string, string>;
}

export interface BackupListing {
  backups: BackupEntry[];
  /** The last run's status file, when there is one. */
  status?: Record<string, string>;
}

function keyValues(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return out;
}

/** The complete backups in `dir` (oldest first) and the last run's status. */
export function backupsFact(dir: string, statusFile: string): Fact<BackupListing> {
  return scriptFact(
    'mariadb-backups',
    { dir, statusFile },
    () =>
      lines([
        sh`for m in ${dir}/*/manifest; do [ -f "$m" ] || continue; printf -- '--backup %s\\n' "$(basename "$(dirname "$m")")"; cat "$m"; echo; done`,
        sh`if [ -f ${statusFile} ]; then echo '--status'; cat ${statusFile}; fi`,
      ]),
    (out) => {
      const backups: BackupEntry[] = [];
      let status: Record<string, string> | undefined;
      for (const block of out.split(/^(?=--backup |--status$)/m)) {
        if (block.startsWith('--backup ')) {
          const [head = '', ...rest] = block.split('\n');
          backups.push({ id: head.slice('--backup '.length).trim(), manifest: keyValues(rest.join('\n')) });
        } else if (block.startsWith('--status')) status = keyValues(block.split('\n').slice(1).join('\n'));
      }
      backups.sort((a, b) => a.id.localeCompare(b.id));
      return { backups, ...(status ? { status } : {}) };
    },
  );
}

/** Whether a backup's files match its SHA256SUMS, with sha256sum's own words when they do not. */
export function backupChecksumFact(dir: string, id: string): Fact<{ ok: boolean; output: string }> {
  return scriptFact(
    'backup-checksum',
    { dir, id },
    () =>
      sh`if out=$(cd ${`${dir}/${id}`} && sha256sum -c SHA256SUMS 2>&1); then echo ok; else echo failed; fi; printf '%s\\n' "$out"`,
    (out) => {
      const [first = '', ...rest] = out.split('\n');
      return { ok: first.trim() === 'ok', output: rest.join('\n').trim() };
    },
  );
}
