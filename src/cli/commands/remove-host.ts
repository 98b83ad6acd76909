import { removeHostFromInventory, unpinHost } from '../../config/edit-inventory.js';
import type { Project } from '../../config/model.js';
import { knownHostsName } from '../../transport/known-hosts.js';
import { closestNames } from '../closest.js';
import { UsageError } from '../../diagnostics/usage-error.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { write, type Io } from '../io.js';
import { compileWith, loadWithSecrets } from '../load.js';
import { StageDocuments } from '../stage-documents.js';
import { applyPrograms, requireYesOffTerminal, type ApplyCliOptions } from './apply.js';

export interface RemoveHostOptions extends ApplyCliOptions {
  env: string;
  /** The group that routes traffic: changed first, so the host is out of rotation before anything else. */
  drain: string;
}

/**
 * Takes a host out of the fleet, the inverse of add-host for the rest of the fleet: first the
 * hosts that route traffic to it (drain), then everything else (allowlists, grants, /etc/hosts),
 * then the inventory. The removed host itself is left as it is.
 */
export async function removeHostCommand(
  name: string,
  opts: RemoveHostOptions,
  io: Io,
  argv: readonly string[],
): Promise<ExitCode> {
  requireYesOffTerminal(opts, io, 'remove-host');
  const { project, secrets } = loadWithSecrets(opts.env, opts, io);
  const host = project.inventory.hosts.find((h) => h.name === name);
  if (!host) {
    const names = project.inventory.hosts.map((h) => h.name);
    const close = closestNames(name, names);
    throw new UsageError(
      `${name} is not a host of ${project.inventory.file} (already removed?); nothing was changed. ` +
        (close.length > 0 ? `Did you mean ${close.join(' or ')}?` : `Hosts: ${names.join(', ') || '(none)'}.`),
    );
  }
  const without: Project = {
    ...project,
    inventory: { ...project.inventory, hosts: project.inventory.hosts.filter((h) => h.name !== name) },
  };
  const drainers = new Set(without.inventory.hosts.filter((h) => h.groups.includes(opts.drain)).map((h) => h.name));
  // Compiled once, before any stage: a problem anywhere is reported before the frontends change.
  const all = compileWith(without, secrets, opts);
  const stages = [
    ...(drainers.size > 0
      ? [{ what: `drain ${name} from ${opts.drain}`, programs: all.filter((p) => drainers.has(p.host.name)) }]
      : []),
    { what: `update the rest of the fleet without ${name}`, programs: all },
  ];
  // --json: one document for the whole removal, holding each stage's report.
  const documents = opts.json ? new StageDocuments(io, 'remove-host') : undefined;
  for (const stage of stages) {
    write(io.stderr, `remove-host ${name}: ${stage.what}`);
    const programs = stage.programs;
    const { code } = await applyPrograms(
      without,
      programs,
      opts,
      documents?.io ?? io,
      argv,
      (p) =>
        `Remove ${name}, step "${stage.what}": apply these changes to ${p.hosts.filter((h) => h.status === 'pending').length} host(s)?`,
    );
    documents?.endStage(stage.what);
    if (code !== EXIT.OK) {
      documents?.print(code, { host: name, removed: false });
      write(
        io.stderr,
        `\nremove-host ${name}: stopped at "${stage.what}". ${name} is still in ${project.inventory.file}; fix the cause above and run remove-host again (the steps already done change nothing the second time).`,
      );
      return code;
    }
  }
  removeHostFromInventory(project.inventory.file, name);
  unpinHost(project.inventory.ssh.known_hosts, knownHostsName(host.address, host.port));
  documents?.print(EXIT.OK, { host: name, removed: true });
  write(
    io.stderr,
    `remove-host ${name}: removed from ${project.inventory.file} and its key unpinned. The host itself was not touched.`,
  );
  return EXIT.OK;
}
