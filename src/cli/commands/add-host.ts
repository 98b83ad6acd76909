import { ConfigError } from '../../config/diagnostics.js';
import { addHostToInventory, pinHostKey } from '../../config/edit-inventory.js';
import { resolveInventoryFile } from '../../config/resolve-env.js';
import { nameSchema } from '../../config/schema/common.js';
import { hostAddress, problemWith } from '../../config/schema/values.js';
import { fetchHostKey } from '../../transport/host-key.js';
import { entryMatches, knownHostsName, parseKnownHosts, readKnownHosts } from '../../transport/known-hosts.js';
import { UsageError } from '../errors.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { write, type Io } from '../io.js';
import { compileWith, loadWithSecrets } from '../load.js';
import type { Project } from '../../config/model.js';
import { confirm } from '../prompt.js';
import { runConnector } from '../ssh-auth.js';
import { applyPrograms, requireYesOffTerminal, type ApplyCliOptions } from './apply.js';

export interface AddHostOptions extends ApplyCliOptions {
  env: string;
  group: string;
  address: string;
  port?: number;
  hostKey?: string;
}

/**
 * Brings a new server into the fleet: checks the name and group, pins its host key (shown and
 * confirmed, or given with --host-key), writes it into the inventory keeping the file as it was,
 * then plans and applies the whole environment: the new host's roles and every existing host
 * whose configuration mentions it. Running it again changes nothing.
 */
export async function addHostCommand(name: string, opts: AddHostOptions, io: Io, argv: readonly string[]): Promise<ExitCode> {
  requireYesOffTerminal(opts, io, 'add-host');
  const file = resolveInventoryFile(opts.env, opts.project ?? io.cwd);
  // The whole project is loaded and checked once, before anything is touched.
  const { project, secrets } = loadWithSecrets(file, opts, io);
  const inventory = project.inventory;
  const checkedName = nameSchema.safeParse(name);
  if (!checkedName.success) throw new UsageError(`host name "${name}": ${checkedName.error.issues[0]?.message ?? 'invalid'}`);
  const addressProblem = problemWith(hostAddress, opts.address);
  if (addressProblem) throw new UsageError(`--address: ${addressProblem}`);
  if (!inventory.groups.has(opts.group)) {
    throw new ConfigError([{ file, path: ['groups'], message: `group "${opts.group}" is not declared`, hint: `declared groups: ${[...inventory.groups.keys()].join(', ') || '(none)'}` }]);
  }
  const port = opts.port ?? inventory.ssh.port;
  const existing = inventory.hosts.find((h) => h.name === name);
  if (existing && (existing.address !== opts.address || !existing.groups.includes(opts.group))) {
    throw new ConfigError([{ file, path: ['hosts', name], message: `a host named ${name} already exists (${existing.address}, groups ${existing.groups.join(', ')})`, hint: 'choose another name, or remove-host it first' }]);
  }
  const clash = inventory.hosts.find((h) => h.name !== name && h.address === opts.address && h.port === port);
  if (clash) throw new ConfigError([{ file, path: ['hosts', clash.name, 'address'], message: `${opts.address} is already the address of ${clash.name}` }]);

  // The configuration with the new host must compile before anything is touched; it is what is applied.
  const withHost: Project = existing
    ? project
    : { ...project, inventory: { ...inventory, hosts: [...inventory.hosts, { name, address: opts.address, port, user: inventory.ssh.user, groups: [opts.group], vars: {} }] } };
  const programs = compileWith(withHost, secrets, opts);
  // The SSH key is loaded (its passphrase asked) before the host key is fetched: before any connection.
  await runConnector(inventory, io);
  await pinKey(name, opts, port, inventory.ssh.known_hosts, inventory.ssh.connect_timeout * 1000, io);
  if (addHostToInventory(file, name, { address: opts.address, port, groups: [opts.group] })) {
    write(io.stderr, `${name} (${opts.address}) added to ${file}, group ${opts.group}.`);
  }

  const { code, result } = await applyPrograms(withHost, programs, opts, io, argv, (p) => `Add ${name} to ${p.env}: apply these changes to ${p.hosts.filter((h) => h.status === 'pending').length} host(s)?`);
  if (code !== EXIT.OK) {
    const changed = result?.hosts.filter((h) => h.tasks.some((t) => t.status === 'changed')).map((h) => h.host) ?? [];
    write(
      io.stderr,
      `\nadd-host ${name}: not finished. ${name} is in ${file} and its host key is pinned; ` +
        (result ? `hosts changed so far: ${changed.join(', ') || 'none'}. ` : 'nothing was applied. ') +
        `Once the cause above is fixed, run: kanka-infra apply ${opts.env} (or this add-host again: it picks up where it stopped).`,
    );
  }
  return code;
}

/** Pins the host key unless it already is; the person (or --host-key) must agree with it. */
async function pinKey(name: string, opts: AddHostOptions, port: number, knownHostsFile: string, timeoutMs: number, io: Io): Promise<void> {
  const knownName = knownHostsName(opts.address, port);
  if (parseKnownHosts(readKnownHosts(knownHostsFile)).some((e) => !e.revoked && entryMatches(e, knownName))) return;
  const offered = await (io.hostKey ?? fetchHostKey)({ host: name, address: opts.address, port, connectTimeoutMs: timeoutMs });
  const shown = `${offered.type} ${offered.fingerprint}`;
  if (opts.hostKey !== undefined) {
    if (opts.hostKey.trim() !== offered.fingerprint) {
      throw new UsageError(`${name} (${opts.address}:${port}) offers ${shown}, not ${opts.hostKey}: not pinned, nothing was changed`);
    }
  } else {
    write(io.stderr, `${name} (${opts.address}:${port}) offers host key ${shown}.\nCompare it with the server's console: ssh-keygen -lf /etc/ssh/ssh_host_${offered.type.replace(/^ssh-/, '')}_key.pub`);
    if (!(io.stdinIsTTY && io.stderrIsTTY)) {
      throw new UsageError(`not pinned: confirm it on a terminal, or pass --host-key ${offered.fingerprint}`);
    }
    if (!(await confirm(io, `Pin this key for ${name}?`))) throw new UsageError('host key not pinned: nothing was changed');
  }
  pinHostKey(knownHostsFile, `${knownName} ${offered.type} ${offered.key.toString('base64')}`);
  write(io.stderr, `host key ${shown} pinned in ${knownHostsFile}.`);
}
