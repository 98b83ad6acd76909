import type { Command } from 'commander';
import type { Project } from '../../config/model.js';
import type { Host } from '../../config/model.js';
import { DbSession, DbStepError } from '../../db/session.js';
import { dbTopology, type DbTopology } from '../../db/topology.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { write, type Io } from '../io.js';
import { compileWith, loadWithSecrets } from '../load.js';
import type { ProjectOptions } from '../options.js';
import type { RestoreCliOptions } from './db-restore.js';
import { confirm } from '../prompt.js';
import { runInfo } from '../run-info.js';
import { runConnector } from '../ssh-auth.js';

export interface DbCliOptions extends ProjectOptions {
  yes?: boolean;
}

/** What every db command starts from: the configuration, checked, and the database topology in it. */
export interface DbContext {
  env: string;
  project: Project;
  topology: DbTopology;
  projectDir: string;
  io: Io;
  argv: readonly string[];
}

export function loadDb(env: string, opts: DbCliOptions, io: Io, argv: readonly string[]): DbContext {
  const { project, secrets } = loadWithSecrets(env, opts, io);
  const programs = compileWith(project, secrets, {});
  return { env, project, topology: dbTopology(project, programs), projectDir: opts.project ?? io.cwd, io, argv };
}

/**
 * Opens the hosts, runs `body`, always closes them. A step that fails on a host (or a lock held by
 * another run) is reported with the host's own words: exit 3.
 */
export async function withHosts(
  ctx: DbContext,
  hosts: readonly Host[],
  body: (session: DbSession) => Promise<ExitCode>,
): Promise<ExitCode> {
  const connect = await runConnector(ctx.project.inventory, ctx.io);
  let session: DbSession | undefined;
  try {
    session = await DbSession.open(
      ctx.project,
      hosts,
      connect,
      runInfo(ctx.project.inventory.name, ctx.argv, ctx.projectDir),
    );
    return await body(session);
  } catch (err) {
    if (!(err instanceof DbStepError)) throw err;
    write(ctx.io.stderr, `error: ${err.message}`);
    return EXIT.HOST_FAILED;
  } finally {
    session?.close();
  }
}

/** Asks on a terminal unless --yes; a "no" is said and is exit 1. */
export async function approve(ctx: DbContext, opts: DbCliOptions, question: string): Promise<boolean> {
  if (opts.yes) return true;
  const ok = await confirm(ctx.io, question);
  if (!ok) write(ctx.io.stderr, 'Cancelled: nothing was changed.');
  return ok;
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export function registerDbCommand(
  program: Command,
  io: Io,
  setExit: (c: ExitCode) => void,
  argv: readonly string[],
): void {
  const db = program
    .command('db')
    .description(
      "Kanka's data: on-demand backups, restore, and rebuilding a replica. Each shows what it will do and asks; apply never does any of these",
    )
    .addHelpText(
      'after',
      `
Examples:
  kanka-infra db backup prod                         take a backup now (before a risky change)
  kanka-infra db restore prod --from latest          restore the newest backup on the primary (asks first)
  kanka-infra db restore prod --from 20261201T023000Z
  kanka-infra db reseed prod backend2                rebuild a broken replica from the primary (asks first)

Exit: 0 done, 1 invalid input or cancelled (nothing changed), 3 a host failed or is locked by another run.`,
    );

  dbOptions(db.command('backup').argument('<env>', 'environment name or inventory file'))
    .description(
      "take a backup now (before a risky change): runs the backup role's own job on the backup host and waits; same dump, checksum, retention and copy as the nightly timer",
    )
    .action(async (env: string, opts: DbCliOptions) => {
      const { backupCommand } = await import('./db-backup.js');
      setExit(await backupCommand(env, opts, io, argv));
    });

  dbOptions(db.command('restore').argument('<env>', 'environment name or inventory file'))
    .description(
      "restore a backup on the primary: verifies its checksum (a corrupted backup is refused), shows what it replaces, asks, stops the app's writes, restores, waits for the replicas to replay it",
    )
    .requiredOption(
      '--from <backup>',
      'the backup: "latest" or its name (e.g. 20261201T023000Z); it must be on the primary (the nightly job copies it there)',
    )
    .action(async (env: string, opts: RestoreCliOptions) => {
      const { restoreCommand } = await import('./db-restore.js');
      setExit(await restoreCommand(env, opts, io, argv));
    });

  dbOptions(
    db
      .command('reseed')
      .argument('<env>', 'environment name or inventory file')
      .argument('<host>', 'the replica to rebuild'),
  )
    .description(
      "rebuild a replica from the primary: shows its state (the server's error) and what is replaced, asks, then loads a consistent dump of every application database and replicates again",
    )
    .action(async (env: string, host: string, opts: DbCliOptions) => {
      const { reseedCommand } = await import('./db-reseed.js');
      setExit(await reseedCommand(env, host, opts, io, argv));
    });
}

function dbOptions(cmd: Command): Command {
  return cmd
    .option('-p, --project <dir>', 'project directory holding inventory/, playbooks/ and roles/')
    .option(
      '--playbook <file>',
      "playbook whose roles place the databases (default: the inventory's playbook:, else playbooks/site.yml)",
    )
    .option(
      '--vault-password-file <file>',
      'file holding the secrets password (or set KANKA_VAULT_PASSWORD / KANKA_VAULT_PASSWORD_FILE)',
    )
    .option('--no-color', 'no colours')
    .option('-y, --yes', 'do it without asking (required when not on a terminal)');
}
