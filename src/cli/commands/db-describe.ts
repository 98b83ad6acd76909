/** How the db commands describe databases and backups to a person. */
import type { BackupEntry, DatabaseSize } from '../../db/facts.js';

export function describeDatabases(dbs: readonly DatabaseSize[]): string {
  if (dbs.length === 0) return 'no application database';
  return dbs
    .map((d) => `${d.name} (${d.tables} table${d.tables === 1 ? '' : 's'}, ~${d.rows} rows, ${humanBytes(d.bytes)})`)
    .join(', ');
}

export function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u] ?? 'B'}`;
}

/** One line about a backup, from its manifest. */
export function describeBackup(b: BackupEntry): string {
  const m = b.manifest;
  const taken = m['finished'] ? new Date(Number(m['finished']) * 1000).toISOString().replace('.000Z', 'Z') : '?';
  const where =
    m['source'] && m['source'] !== 'local' ? `${m['host'] ?? '?'} (dumped from ${m['source']})` : (m['host'] ?? '?');
  return `${b.id}: taken ${taken} on ${where}, databases ${m['databases'] || '(none)'}, ${m['tables'] ?? '?'} tables, ${humanBytes(Number(m['bytes'] ?? 0))}, GTID ${m['gtid'] || '?'}`;
}
