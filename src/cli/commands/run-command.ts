import { runOnHosts } from '../../engine/adhoc.js';
import { resolveLimit } from '../../engine/targeting.js';
import { UsageError } from '../../diagnostics/usage-error.js';
import { renderCommandJson, renderCommandReport } from '../../output/adhoc.js';
import { makeStyle } from '../../output/style.js';
import { operatorShell } from '../../shell/operator-shell.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { write, type Io } from '../io.js';
import { loadInventoryMasked } from '../load.js';
import { runInfo } from '../run-info.js';
import { runConnector } from '../ssh-auth.js';
import { cliVersion } from '../version.js';

export interface RunCommandOptions {
  project?: string;
  limit?: string;
  forks: number;
  json?: boolean;
  color?: boolean;
  vaultPasswordFile?: string;
  vaultId?: string[];
}

const USAGE = 'kanka-infra run <env> [--limit <hosts>] -- <command...>   e.g. kanka-infra run prod -- uptime';

/** Runs a command line on the selected hosts. 0 it succeeded everywhere; 3 it failed or a host was unreachable. */
export async function runCommand(
  env: string,
  given: { words: string[]; afterDashes: boolean },
  opts: RunCommandOptions,
  io: Io,
  argv: readonly string[] = ['run', env, '--', ...given.words],
): Promise<ExitCode> {
  if (!given.afterDashes && given.words.length > 0)
    throw new UsageError(
      `put the command after --, so that its options are not taken for kanka-infra's: kanka-infra run ${env} -- ${given.words.join(' ')}`,
    );
  if (given.words.join('').trim() === '') throw new UsageError(`no command given: ${USAGE}`);
  const inventory = loadInventoryMasked(env, opts, io);
  const selected = opts.limit === undefined ? undefined : resolveLimit(opts.limit, inventory);
  const hosts = inventory.hosts.filter((h) => selected === undefined || selected.has(h.name));
  const connect = await runConnector(inventory, io);
  const report = await runOnHosts(inventory, hosts, operatorShell(given.words), {
    forks: opts.forks,
    connect,
    info: runInfo(inventory.name, argv, opts.project ?? io.cwd),
    redact: io.redact ?? ((t) => t),
  });
  const code = report.hosts.every((h) => h.status === 'ok') ? EXIT.OK : EXIT.HOST_FAILED;
  if (opts.json) write(io.stdout, renderCommandJson(report, code, cliVersion()));
  else write(io.stdout, renderCommandReport(report, makeStyle({ color: opts.color, isTTY: io.stdoutIsTTY })));
  return code;
}
