import type { Command } from 'commander';
import type { ExitCode } from '../exit-codes.js';
import type { Io } from '../io.js';
import type { RestoreCliOptions } from './db-restore.js';
import type { DbCliOptions } from './db-context.js';
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
