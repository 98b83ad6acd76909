import { lines, sh } from '../shell/command.js';
import type { Fact } from './fact.js';
import { MYSQL, mysqlFact, type MysqlUnavailable } from './mysql.js';

/** Databases every MariaDB server has: not application data. */
export const SYSTEM_DATABASES = ['mysql', 'information_schema', 'performance_schema', 'sys'] as const;

/** What SHOW SLAVE STATUS says, by field (Slave_IO_Running, Last_SQL_Error, ...). */
export type ReplicaFields = Readonly<Record<string, string>>;

export interface ReplicaState {
  available: true;
  /** Undefined: this server replicates from nobody. */
  status?: ReplicaFields;
  /** Application databases on this server (the system ones left out). */
  databases: string[];
  /** sha256 of the replication settings file, and the one recorded when replication was last pointed with it. */
  settingsHash?: string;
  pointedHash?: string;
}

const SECTION = '--kanka-section';
/** Vertical output needs the field names: not the -N of MYSQL. */
const SLAVE_STATUS = sh`mysql --protocol=socket -e 'SHOW SLAVE STATUS\\G'`;

/**
 * A replica's replication status, its application databases, and whether its replication settings
 * are the ones it was last pointed with. The IO thread "Connecting" without an error is the few
 * seconds after the primary restarts: waited for (at most 10 s) rather than reported.
 */
export function replicaFact(settingsFile: string, stampFile: string): Fact<ReplicaState | MysqlUnavailable> {
  const notSystem = SYSTEM_DATABASES.map((d) => `'${d}'`).join(', ');
  const script = lines([
    // One client run in the usual case; the status is matched with `case` (no grep to start).
    sh`st=$(${SLAVE_STATUS}); i=0`,
    sh`while [ "$i" -lt 10 ]; do case $st in *'Slave_IO_Running: Connecting'*) case $st in *'Last_IO_Errno: 0'*) i=$((i+1)); sleep 1; st=$(${SLAVE_STATUS}); continue ;; esac ;; esac; break; done`,
    sh`echo ${SECTION}-status`,
    sh`printf '%s\n' "$st"`,
    sh`echo ${SECTION}-databases`,
    sh`${MYSQL} -e ${`SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME NOT IN (${notSystem}) ORDER BY SCHEMA_NAME`}`,
    sh`echo ${SECTION}-settings`,
    sh`if [ -f ${settingsFile} ]; then sha256sum < ${settingsFile}; fi`,
    sh`echo ${SECTION}-pointed`,
    sh`if [ -f ${stampFile} ]; then read -r pointed < ${stampFile} || true; echo "$pointed"; fi`,
  ]);
  return mysqlFact(
    `mariadb-replica:${settingsFile}:${stampFile}`,
    'mariadb-replica',
    settingsFile,
    script,
    parseReplica,
  );
}

export function parseReplica(output: string): ReplicaState {
  const sections = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of output.split('\n')) {
    if (line.startsWith(`${SECTION}-`)) {
      current = [];
      sections.set(line.slice(SECTION.length + 1).trim(), current);
    } else current?.push(line);
  }
  if (!sections.has('status') || !sections.has('databases'))
    throw new Error(`unexpected replica status output: ${JSON.stringify(output.slice(0, 200))}`);
  const fields: Record<string, string> = {};
  for (const line of sections.get('status') ?? []) {
    const m = /^\s*([A-Za-z_]+): ?(.*)$/.exec(line);
    if (m?.[1]) fields[m[1]] = m[2] ?? '';
  }
  // sha256sum prints "<hash>  -": the first word of the first line.
  const word = (name: string) =>
    (sections.get(name) ?? []).map((l) => l.trim().split(/\s+/)[0] ?? '').find((l) => l !== '');
  const settingsHash = word('settings');
  const pointedHash = word('pointed');
  return {
    available: true,
    ...(Object.keys(fields).length > 0 ? { status: fields } : {}),
    databases: (sections.get('databases') ?? []).map((l) => l.trim()).filter((l) => l !== ''),
    ...(settingsHash ? { settingsHash } : {}),
    ...(pointedHash ? { pointedHash } : {}),
  };
}
