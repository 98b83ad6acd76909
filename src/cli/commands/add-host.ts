import { ConfigError } from '../../diagnostics/diagnostic.js';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeFsError } from '../../diagnostics/diagnostic.js';
import { inventoryWithHost, knownHostsWith, pinHostKey } from '../../config/edit-inventory.js';
import { writeAtomic } from '../../local/write-atomic.js';
import { TransportError } from '../../transport/transport.js';
import { resolveInventoryFile } from '../../config/resolve-env.js';
import { nameSchema } from '../../config/schema/common.js';
import { hostAddress, problemWith } from '../../values/values.js';
import { fetchHostKey } from '../../transport/host-key.js';
import { entryMatches, knownHostsName, parseKnownHosts, readKnownHosts } from '../../transport/known-hosts.js';
import { UsageError } from '../../diagnostics/usage-error.js';
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
 * Brings a new server into the fleet: checks the name and group, reads the host key it offers
 * (shown and confirmed, or compared with --host-key), then plans the whole environment with the
 * new host: its roles and every existing host whose configuration mentions it. Nothing is written
 * before the person says yes to that plan (or --yes): only then are the key pinned and the host
 * added to the inventory (keeping the file as it was), and the plan applied. Running it again
 * changes nothing.
 */
export async function addHostCommand(
  name: string,
  opts: AddHostOptions,
  io: Io,
  argv: readonly string[],
): Promise<ExitCode> {
  requireYesOffTerminal(opts, io, 'add-host');
  const file = resolveInventoryFile(opts.env, opts.project ?? io.cwd);
  // The whole project is loaded and checked once, before anything is touched.
  // A host_vars file prepared for the new host is read: its first apply needs those variables.
  const { project, secrets } = loadWithSecrets(file, { ...opts, newHost: name }, io);
  const inventory = project.inventory;
  const checkedName = nameSchema.safeParse(name);
  if (!checkedName.success)
    throw new UsageError(`host name "${name}": ${checkedName.error.issues[0]?.message ?? 'invalid'}`);
  const addressProblem = problemWith(hostAddress, opts.address);
  if (addressProblem) throw new UsageError(`--address: ${addressProblem}`);
  if (!inventory.groups.has(opts.group)) {
    throw new ConfigError([
      {
        file,
        path: ['groups'],
        message: `group "${opts.group}" is not declared`,
        hint: `declared groups: ${[...inventory.groups.keys()].join(', ') || '(none)'}`,
      },
    ]);
  }
  const port = opts.port ?? inventory.ssh.port;
  const existing = inventory.hosts.find((h) => h.name === name);
  if (existing && (existing.address !== opts.address || !existing.groups.includes(opts.group))) {
    throw new ConfigError([
      {
        file,
        path: ['hosts', name],
        message: `a host named ${name} already exists (${existing.address}, groups ${existing.groups.join(', ')})`,
        hint: 'choose another name, or remove-host it first',
      },
    ]);
  }
  const clash = inventory.hosts.find((h) => h.name !== name && h.address === opts.address && h.port === port);
  if (clash)
    throw new ConfigError([
      {
        file,
        path: ['hosts', clash.name, 'address'],
        message: `${opts.address} is already the address of ${clash.name}`,
      },
    ]);

  // The configuration with the new host must compile before anything is touched; it is what is applied.
  const withHost: Project = existing
    ? project
    : {
        ...project,
        inventory: {
          ...inventory,
          hosts: [
            ...inventory.hosts,
            { name, address: opts.address, port, user: inventory.ssh.user, groups: [opts.group], vars: {} },
          ],
        },
      };
  const programs = compileWith(withHost, secrets, opts);
  // Computed now, written only once the plan is approved.
  const inventoryText = existing
    ? undefined
    : inventoryWithHost(file, readInventory(file), name, { address: opts.address, port, groups: [opts.group] });

  // The SSH key is loaded (its passphrase asked) before the host key is fetched: before any connection.
  await runConnector(inventory, io);
  let toPin: { line: string; shown: string } | undefined;
  try {
    toPin = await keyToPin(name, opts, port, inventory.ssh.known_hosts, inventory.ssh.connect_timeout * 1000, io);
  } catch (err) {
    if (!(err instanceof TransportError)) throw err;
    write(
      io.stderr,
      `error: ${err.message}
add-host ${name}: its host key could not be read, so nothing was changed. Check the address and port (and that sshd runs there), then run add-host again.`,
    );
    return EXIT.HOST_FAILED;
  }

  // Until approved, the run reaches the new host through a private copy of known_hosts with its key.
  const keyLine = toPin?.line;
  const trial = keyLine === undefined ? undefined : trialKnownHosts(inventory.ssh.known_hosts, keyLine);
  try {
    const runProject: Project = trial
      ? {
          ...withHost,
          inventory: { ...withHost.inventory, ssh: { ...withHost.inventory.ssh, known_hosts: trial.file } },
        }
      : withHost;
    let written = false;
    const approved = () => {
      written = true;
      if (keyLine !== undefined) {
        writeLocal(() => pinHostKey(inventory.ssh.known_hosts, keyLine), inventory.ssh.known_hosts);
        write(io.stderr, `host key ${toPin?.shown ?? ''} pinned in ${inventory.ssh.known_hosts}.`);
      }
      if (inventoryText !== undefined) {
        writeLocal(() => writeAtomic(file, inventoryText), file);
        write(io.stderr, `${name} (${opts.address}) added to ${file}, group ${opts.group}.`);
      }
    };
    const { code, result } = await applyPrograms(
      runProject,
      programs,
      opts,
      io,
      argv,
      (p) =>
        `Add ${name} to ${p.env}: apply these changes to ${p.hosts.filter((h) => h.status === 'pending').length} host(s)?`,
      approved,
    );
    if (code !== EXIT.OK && result && !written) {
      write(
        io.stderr,
        `\nadd-host ${name}: nothing was changed and ${file} was not written. Once the cause above is fixed, run this add-host again.`,
      );
    } else if (code !== EXIT.OK && result) {
      const changed = result.hosts.filter((h) => h.tasks.some((t) => t.status === 'changed')).map((h) => h.host);
      write(
        io.stderr,
        `\nadd-host ${name}: not finished. ${name} is in ${file} and its host key is pinned; ` +
          `hosts changed so far: ${changed.join(', ') || 'none'}. ` +
          `Once the cause above is fixed, run: kanka-infra apply ${opts.env} (or this add-host again: it picks up where it stopped).`,
      );
    }
    return code;
  } finally {
    trial?.remove();
  }
}

function readInventory(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([{ file, message: `cannot read the inventory: ${describeFsError(err)}` }]);
  }
}

/** A local write that fails (permissions, a full disk) is the operator's to fix: said in one line. */
function writeLocal(fn: () => void, file: string): void {
  try {
    fn();
  } catch (err) {
    throw new UsageError(`cannot write ${file}: ${describeFsError(err)}; nothing was applied (the file is as it was)`);
  }
}

/** A 0700 directory with a copy of known_hosts plus the new key, removed afterwards. */
function trialKnownHosts(knownHostsFile: string, line: string): { file: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'kanka-add-host-'));
  const file = join(dir, 'known_hosts');
  writeFileSync(file, knownHostsWith(readKnownHosts(knownHostsFile), line), { mode: 0o600 });
  return { file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * The known_hosts line to pin for the new host, or undefined if its address already has one. The
 * person (or --host-key) must agree with the key it offers; nothing is written here.
 */
async function keyToPin(
  name: string,
  opts: AddHostOptions,
  port: number,
  knownHostsFile: string,
  timeoutMs: number,
  io: Io,
): Promise<{ line: string; shown: string } | undefined> {
  const knownName = knownHostsName(opts.address, port);
  if (parseKnownHosts(readKnownHosts(knownHostsFile)).some((e) => !e.revoked && entryMatches(e, knownName)))
    return undefined;
  const offered = await (io.hostKey ?? fetchHostKey)({
    host: name,
    address: opts.address,
    port,
    connectTimeoutMs: timeoutMs,
  });
  const shown = `${offered.type} ${offered.fingerprint}`;
  if (opts.hostKey !== undefined) {
    if (opts.hostKey.trim() !== offered.fingerprint) {
      throw new UsageError(
        `${name} (${opts.address}:${port}) offers ${shown}, not ${opts.hostKey}: not pinned, nothing was changed`,
      );
    }
  } else {
    write(
      io.stderr,
      `${name} (${opts.address}:${port}) offers host key ${shown}.\nCompare it with the server's console: ssh-keygen -lf /etc/ssh/ssh_host_${offered.type.replace(/^ssh-/, '')}_key.pub`,
    );
    if (!(io.stdinIsTTY && io.stderrIsTTY)) {
      throw new UsageError(`not pinned: confirm it on a terminal, or pass --host-key ${offered.fingerprint}`);
    }
    if (!(await confirm(io, `Trust this key for ${name}? (it is pinned only if you then approve the plan)`)))
      throw new UsageError('host key not accepted: nothing was changed');
  }
  return { line: `${knownName} ${offered.type} ${offered.key.toString('base64')}`, shown };
}
