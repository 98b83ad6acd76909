import type { Host, Project } from '../config/model.js';
import { allTasks, type HostProgram } from '../engine/program.js';
import { UsageError } from '../diagnostics/usage-error.js';

/** How a replica follows the primary: the `mariadb_replica` task's arguments. */
export interface ReplicaSettings {
  primary: string;
  primary_name: string;
  settings: string;
  seed: string;
  stamp: string;
  max_lag_seconds: number;
}

/** Kanka's databases as the configuration places them: who takes writes, who follows. */
export interface DbTopology {
  primary: Host;
  /** `seedScript`: the seeding script of this configuration (what the role installs at `settings.seed`). */
  replicas: { host: Host; settings: ReplicaSettings; seedScript?: string }[];
  /** The application's MariaDB account (its writes stop during a restore). */
  appUser: string;
  /** Where the nightly backups are taken (role mariadb-backup) and kept. */
  backup: { host: Host; dir: string };
}

/** The backup role's last-run record and unit (see roles/mariadb-backup). */
export const BACKUP_STATUS_FILE = '/var/lib/kanka-infra/mariadb-backup.status';
export const BACKUP_UNIT = 'kanka-mariadb-backup.service';
export const DEFAULT_BACKUP_DIR = '/var/backups/kanka-infra/mariadb';
/** A backup's name: the UTC time it was taken. */
export const BACKUP_ID = /^\d{8}T\d{6}Z$/;

/** The variables the mariadb role's tasks see on this host (each play has its own roles' defaults). */
function hostVarsOf(program: HostProgram): Record<string, unknown> {
  return allTasks(program).find((t) => t.role === 'mariadb')?.context.vars ?? {};
}

/** Reads the topology off the compiled programs (the same values the roles are applied with). */
export function dbTopology(project: Project, programs: readonly HostProgram[]): DbTopology {
  const dbHosts = programs.filter((p) => allTasks(p).some((t) => t.role === 'mariadb'));
  const first = dbHosts[0];
  if (!first)
    throw new UsageError(`no host runs the mariadb role in ${project.playbookFile}: there is no database to work on`);
  const primaryName = hostVarsOf(first)['mariadb_primary'];
  const primary = project.inventory.hosts.find((h) => h.name === primaryName);
  if (typeof primaryName !== 'string' || !primary)
    throw new UsageError(
      `mariadb_primary is "${String(primaryName)}", which is not a host of ${project.inventory.file}`,
    );
  const primaryProgram = programs.find((p) => p.host.name === primary.name);
  const vars = primaryProgram ? hostVarsOf(primaryProgram) : hostVarsOf(first);
  const replicas = programs.flatMap((p) => {
    const task = allTasks(p).find((t) => t.module.name === 'mariadb_replica');
    if (!task) return [];
    const settings = task.args as ReplicaSettings;
    const copy = allTasks(p).find(
      (t) => t.module.name === 'copy' && (t.args as { dest?: string }).dest === settings.seed,
    );
    // The copy module resolved its content when the task was compiled (inline or the role's file).
    const seedScript = (copy?.args as { resolved?: Buffer } | undefined)?.resolved?.toString('utf8');
    return [{ host: p.host, settings, ...(seedScript !== undefined ? { seedScript } : {}) }];
  });
  const appUser = typeof vars['mariadb_app_user'] === 'string' ? vars['mariadb_app_user'] : 'kanka';
  // As the role decides: mariadb_backup_host, else the first replica (spare the primary), else the primary.
  const named =
    typeof vars['mariadb_backup_host'] === 'string' && vars['mariadb_backup_host'] !== ''
      ? vars['mariadb_backup_host']
      : undefined;
  const backupHost =
    named !== undefined ? project.inventory.hosts.find((h) => h.name === named) : (replicas[0]?.host ?? primary);
  if (!backupHost)
    throw new UsageError(`mariadb_backup_host is "${named ?? ''}", which is not a host of ${project.inventory.file}`);
  const dir =
    typeof vars['mariadb_backup_dir'] === 'string' && vars['mariadb_backup_dir'] !== ''
      ? vars['mariadb_backup_dir']
      : DEFAULT_BACKUP_DIR;
  return { primary, replicas, appUser, backup: { host: backupHost, dir } };
}
