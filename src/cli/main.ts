import { Command, CommanderError, Option } from 'commander';
import { ConfigError, formatDiagnostic } from '../diagnostics/diagnostic.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { registerVaultCommand } from './commands/vault.js';
import { registerDbCommand } from './commands/db.js';
import { registerRunCommand } from './commands/run.js';
import { registerCompletionCommands } from './commands/completion.js';
import { UsageError } from '../diagnostics/usage-error.js';
import { processIo, write, type Io } from './io.js';
import { redactingIo } from './redacting-io.js';
import { JsonOutcome, wantsJson, type JsonProblem } from './json-outcome.js';
import { cliVersion } from './version.js';
import {
  addChangeOptions,
  addExtraVarsOption,
  addProjectOptions,
  addRunOptions,
  type RunCliOptions,
} from './options.js';
import type { PlanCliOptions } from './commands/plan.js';
import type { ValidateCliOptions } from './commands/validate.js';
import type { AddHostOptions } from './commands/add-host.js';
import type { RemoveHostOptions } from './commands/remove-host.js';
import type { InventoryImportOptions } from './commands/inventory-import.js';

const EXAMPLES = `
Examples:
  kanka-infra validate prod                 check inventory/prod.yml, the playbook and roles (offline)
  kanka-infra plan prod                     what would change, with diffs (exit 2 if anything would)
  kanka-infra plan prod --limit backend1    only one host
  kanka-infra apply prod                    show the plan, ask, apply
  kanka-infra apply prod --yes --tags nginx  no question; only tasks tagged nginx (docs/tags.md)
  kanka-infra validate prod --list-tasks --tags tls   what a selection would run, per play and host
  kanka-infra inventory prod                hosts, addresses and groups
  kanka-infra drift prod                    nightly: what differs from the configuration (exit 2 if anything)
  kanka-infra add-host backend3 --env prod --group backend --address 10.0.0.6
  kanka-infra remove-host backend3 --env prod
  kanka-infra db backup prod                backup now; db restore prod --from latest; db reseed prod backend2
  kanka-infra vault edit inventory/prod.secrets.yml   edit the encrypted secrets in $EDITOR
  kanka-infra run prod --limit backend -- uptime   a command on the selected hosts, each host's output
  kanka-infra plan ./.fleet/kanka/inventory.yml --json   any inventory file; a JSON report

Exit codes:
  0  success / no changes       2  changes pending (plan), drift found (drift), or a problem that needs a person (plan, drift, apply)
  1  invalid input or usage, or the question answered other than "yes" (or end of input): nothing changed
  3  a host failed (an internal error on one host included; for run: the command exited non-zero), was unreachable or is locked by another run
  4  internal error (a bug in kanka-infra: please report it)
  130  interrupted (Ctrl-C) during apply: the changes in flight finished, no new one started, locks released

<env> is a name (inventory/<env>.yml in the project) or a path to an inventory file.

Environment:
  KANKA_VAULT_PASSWORD_FILE, KANKA_VAULT_PASSWORD   the secrets password (or --vault-password-file)
  KANKA_SSH_KEY_PASSPHRASE_FILE                   file holding the passphrase of ssh.key_file (else asked on a terminal)
  NO_COLOR                                        no colours (as --no-color)
  KANKA_INFRA_CODE_CACHE=off                      no V8 code cache in ~/.cache/kanka-infra (a faster start)`;

/** A TCP port, or a usage error (exit 1) naming the option. */
function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new UsageError(`--port must be a whole number from 1 to 65535, got "${value}"`);
  return n;
}

/** Builds the CLI. Each action stores its exit code; only the entry point exits the process. */
export function buildProgram(
  io: Io,
  setExit: (code: ExitCode) => void,
  argv: readonly string[] = [],
  /** Where commander's own messages (usage errors) go instead of stderr: the --json document. */
  commanderErr?: (text: string) => void,
): Command {
  const program = new Command('kanka-infra')
    .description("Typed, honest infrastructure as code for Kanka's servers: plan and apply roles over SSH, with diffs.")
    .version(cliVersion(), '-V, --version')
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: commanderErr ?? ((s) => io.stderr.write(s)),
    })
    .addHelpText('after', EXAMPLES)
    .exitOverride();

  addExtraVarsOption(
    addProjectOptions(program.command('validate').argument('<env>', 'environment name or inventory file')),
  )
    .description('check the inventory, playbook, roles and every task argument, without contacting any host')
    .option('--list-tasks', 'also list, per play and host, the tasks the selection (--limit, --tags, ...) would run')
    .action(async (env: string, opts: ValidateCliOptions) => {
      const { validateCommand } = await import('./commands/validate.js');
      setExit(validateCommand(env, opts, io));
    });

  addExtraVarsOption(addRunOptions(program.command('plan').argument('<env>', 'environment name or inventory file')))
    .description('dry run: connect, read the state, show every change with a diff; change nothing')
    .option(
      '-o, --out <file>',
      'also save the plan, for `kanka-infra apply <file>` to apply exactly it (no secret values in it)',
    )
    .addHelpText(
      'after',
      '\nExit: 0 no changes, 2 changes pending or a problem that needs a person (e.g. a broken replica), 1 invalid input, 3 a host failed or was unreachable.\nExample:\n  kanka-infra plan prod --out prod.plan && kanka-infra apply prod.plan',
    )
    .action(async (env: string, opts: PlanCliOptions) => {
      const { planCommand } = await import('./commands/plan.js');
      setExit(await planCommand(env, opts, io));
    });

  addExtraVarsOption(
    addChangeOptions(
      addRunOptions(
        program
          .command('apply')
          .argument('<env|plan-file>', 'environment name or inventory file, or a plan saved by plan --out'),
      ),
    ),
  )
    .description(
      'show the plan, ask for confirmation, then make exactly those changes (or apply a saved plan: exactly it, no question). Under the host locks, before any change, the hosts are read again: if anything is not as the plan said, nothing is changed',
    )
    .addHelpText(
      'after',
      '\nExit: 0 applied (or nothing to do), 2 applied but a problem needs a person (e.g. a broken replica: see "to fix"), 1 invalid input, cancelled, or a saved plan made from another configuration, 3 a host failed or was unreachable, or is no longer as the plan said (nothing changed), 130 interrupted (Ctrl-C: locks released, recap printed).',
    )
    .action(async (env: string, opts: RunCliOptions & { yes?: boolean; breakLock?: boolean }) => {
      const { applyCommand } = await import('./commands/apply.js');
      setExit(await applyCommand(env, opts, io, argv));
    });

  addChangeOptions(addRunOptions(program.command('add-host').argument('<name>', "the new host's name")))
    .description(
      'bring a new server into the fleet: pin its key, add it to the inventory, apply it and every host that depends on it',
    )
    .requiredOption('-e, --env <env>', 'environment name or inventory file')
    .requiredOption('-g, --group <group>', 'its group (declared in the inventory)')
    .requiredOption('-a, --address <address>', 'its address')
    .addOption(new Option('--port <port>', 'its SSH port (1-65535)').argParser(parsePort))
    .option('--host-key <fingerprint>', 'the SHA256:... fingerprint it must offer (non-interactive runs)')
    .addHelpText(
      'after',
      '\nExample:\n  kanka-infra add-host backend3 --env prod --group backend --address 10.0.0.6 --host-key SHA256:abc... --yes\nNothing is written (inventory, known_hosts) before the plan is approved.\nRun again, it changes nothing. Exit: 0 done, 1 invalid input or cancelled, 3 a host failed or the new address cannot be reached, 130 interrupted.',
    )
    .action(async (name: string, opts: AddHostOptions) => {
      const { addHostCommand } = await import('./commands/add-host.js');
      setExit(await addHostCommand(name, opts, io, argv));
    });

  addChangeOptions(
    addRunOptions(program.command('remove-host').argument('<name>', 'the host to take out'), { limit: false }),
  )
    .description(
      'take a host out of the fleet: drain it from the frontends first, then update allowlists, grants and /etc/hosts, then drop it from the inventory (the host itself is not wiped). No --limit: every host that refers to it is updated',
    )
    .addHelpText(
      'after',
      '\nEvery host that refers to the removed one is updated, so --limit is refused. Exit: 0 done, 1 invalid input, unknown host or cancelled, 3 a host failed, 130 interrupted.',
    )
    .requiredOption('-e, --env <env>', 'environment name or inventory file')
    .option('--drain <group>', 'the group that routes traffic, changed first', 'frontend')
    .action(async (name: string, opts: RemoveHostOptions) => {
      const { removeHostCommand } = await import('./commands/remove-host.js');
      setExit(await removeHostCommand(name, opts, io, argv));
    });

  addExtraVarsOption(addRunOptions(program.command('drift').argument('<env>', 'environment name or inventory file')))
    .description('the nightly check: plan every host, change nothing, take no lock, ask nothing')
    .option('--webhook <url>', 'post a short summary (Slack/Discord JSON) when there is drift or a failure')
    .addHelpText(
      'after',
      '\nExit: 0 no drift, 2 drift found or a problem that needs a person (a broken or lagging replica, with the server\'s error), 3 a host could not be checked (the others are still reported), 1 invalid configuration.\nCron (a mail only when something is wrong):\n  17 3 * * *  cd /srv/kanka-infra && ./bin/kanka-infra drift prod --webhook "$KANKA_DRIFT_WEBHOOK" > /tmp/kanka-drift.txt 2>&1 || mail -s "kanka drift" ops@example.org < /tmp/kanka-drift.txt',
    )
    .action(async (env: string, opts: RunCliOptions & { webhook?: string }) => {
      const { driftCommand } = await import('./commands/drift.js');
      setExit(await driftCommand(env, opts, io));
    });

  const inventory = program
    .command('inventory')
    .argument('<env>', 'environment name or inventory file')
    .description('list the hosts, their addresses and groups (or: inventory import <ansible-inventory>)')
    .option('-p, --project <dir>', 'project directory')
    .option('--json', 'JSON output')
    .action(async (env: string, opts: { json?: boolean; project?: string }) => {
      const { inventoryCommand } = await import('./commands/inventory.js');
      setExit(inventoryCommand(env, opts, io));
    });

  inventory
    .command('import')
    .argument('<ansible-inventory>', 'an Ansible inventory file: INI, or YAML (.yml, .yaml, .json)')
    .description(
      "bring an Ansible inventory over: writes this project's inventory format, with group_vars/ and host_vars/ merged in, and lists every Ansible setting it could not map",
    )
    .option(
      '-o, --out <file>',
      'write the inventory here (an existing file is not replaced without --force); default: stdout',
    )
    .option('--group-vars <dir>', "Ansible's group_vars directory (default: group_vars/ beside the inventory)")
    .option('--host-vars <dir>', "Ansible's host_vars directory (default: host_vars/ beside the inventory)")
    .option('--name <env>', 'the environment name written into the inventory (default: the output file name)')
    .option('--force', 'replace the --out file if it exists')
    .option('--json', 'a JSON report on stdout')
    .addHelpText(
      'after',
      '\nExit: 0 written, every setting mapped; 2 written, but some settings need a person (listed, and in the file header); 1 invalid input.\nExample:\n  kanka-infra inventory import ~/ansible/hosts.ini -o inventory/prod.yml && kanka-infra validate prod',
    )
    .action(async (source: string, opts: InventoryImportOptions) => {
      const { inventoryImportCommand } = await import('./commands/inventory-import.js');
      setExit(inventoryImportCommand(source, opts, io));
    });

  program
    .command('schema')
    .argument('[kind]', 'inventory, playbook, tasks or defaults', 'inventory')
    .description('print the JSON Schema of a file format, for editor completion and checks')
    .option('-o, --out <dir>', 'write every schema to this directory instead')
    .addHelpText(
      'after',
      '\nIn VS Code (YAML extension), first line of a file:\n  # yaml-language-server: $schema=../schemas/inventory.schema.json',
    )
    .action(async (kind: string | undefined, opts: { out?: string }) => {
      const { schemaCommand } = await import('./commands/schema.js');
      setExit(schemaCommand(kind, opts, io));
    });

  registerVaultCommand(program, io, setExit);
  registerDbCommand(program, io, setExit, argv);
  registerRunCommand(program, io, setExit, argv);
  registerCompletionCommands(program, io, setExit, argv);

  return program;
}

/** Runs the CLI with these arguments; returns the exit code. Never exits the process itself. */
export async function runCli(argv: string[], rawIo: Io = processIo()): Promise<ExitCode> {
  const redacting = redactingIo(rawIo);
  const json = wantsJson(argv) ? new JsonOutcome() : undefined;
  const io = json ? json.track(redacting) : redacting;
  let code: ExitCode = EXIT.OK;
  const program = buildProgram(
    io,
    (c) => {
      code = c;
    },
    argv,
    json?.commanderOutput,
  );
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    const { code: failed, problem } = classifyError(err, json?.commanderMessage ?? '');
    if (!json) {
      if (problem) write(io.stderr, textOf(problem));
      return failed;
    }
    json.finish(io, failed, problem);
    return failed;
  }
  json?.finish(io, code);
  return code;
}

/** The exit code of an error, and what to tell (nothing: commander already said it, or all went well). */
function classifyError(err: unknown, commanderMessage: string): { code: ExitCode; problem?: JsonProblem } {
  if (err instanceof CommanderError) {
    // Help and version end in an "error" internally; they are successes, unless the help stands for
    // a missing command (`kanka-infra` alone, `kanka-infra vault`): that is a usage error.
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return { code: EXIT.OK };
    if (err.code === 'commander.help') {
      if (err.exitCode === 0) return { code: EXIT.OK };
      return { code: EXIT.INVALID, ...(commanderMessage ? { problem: usage('no command given') } : {}) };
    }
    if (err.code === 'commander.executeSubCommandAsync') return { code: EXIT.INTERNAL };
    // commander printed its message (or, with --json, kept it for the document)
    return { code: EXIT.INVALID, ...(commanderMessage ? { problem: usage(commanderMessage) } : {}) };
  }
  if (err instanceof ConfigError) {
    return {
      code: EXIT.INVALID,
      problem: { kind: 'config', message: configSummary(err), diagnostics: err.diagnostics },
    };
  }
  if (err instanceof UsageError) return { code: EXIT.INVALID, problem: usage(err.message) };
  const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
  return {
    code: EXIT.INTERNAL,
    problem: {
      kind: 'internal',
      message: `internal error (a bug in kanka-infra, please report it with this output):\n${detail}`,
    },
  };
}

function usage(message: string): JsonProblem {
  return { kind: 'usage', message };
}

function configSummary(err: ConfigError): string {
  const n = err.diagnostics.length;
  return `${n} problem${n > 1 ? 's' : ''} found; nothing was changed and no host was contacted.`;
}

/** The problem as people read it on stderr. */
function textOf(problem: JsonProblem): string {
  if (problem.kind === 'config')
    return `${(problem.diagnostics ?? []).map(formatDiagnostic).join('\n')}\n\n${problem.message}`;
  if (problem.kind === 'usage') return `error: ${problem.message}`;
  return problem.message;
}
