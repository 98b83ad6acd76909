import { existsSync } from 'node:fs';
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, describeFsError, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { Inventory } from '../config/model.js';
import { KeyFileError, readKeyFile, unlockKey, type KeyFile } from '../transport/ssh-keys.js';
import type { SshCredentials } from '../transport/ssh.js';
import type { Connector } from '../transport/transport.js';
import type { Io } from './io.js';
import { askHidden } from './ask-hidden.js';

export const PASSPHRASE_FILE_ENV = 'KANKA_SSH_KEY_PASSPHRASE_FILE';

/*
 * How ssh.key_file and ssh.agent combine (README, "SSH keys"):
 * - key_file only: that key; a passphrase comes from KANKA_SSH_KEY_PASSPHRASE_FILE, else a prompt
 *   on a terminal, else an error.
 * - agent only: the agent's keys ($SSH_AUTH_SOCK).
 * - both: the key first, then the agent's keys. A passphrase-protected key_file is not asked for
 *   (it is expected to be in the agent, `ssh-add` it) unless KANKA_SSH_KEY_PASSPHRASE_FILE is set.
 */

/** Credentials loaded once per run (per Io): remove-host's stages and add-host reuse them. */
const loaded = new WeakMap<Io, Map<string, Promise<SshCredentials>>>();

/**
 * The run's connector, after loading and unlocking the SSH key (asking its passphrase at most once)
 * and checking the agent: every problem is a ConfigError before any host is contacted.
 * A test's injected connector (io.connect) is returned the same way, after the same checks.
 */
export async function runConnector(
  inventory: Inventory,
  io: Io,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Connector> {
  const perIo = loaded.get(io) ?? new Map<string, Promise<SshCredentials>>();
  loaded.set(io, perIo);
  const settings = `${inventory.ssh.key_file ?? ''}\0${inventory.ssh.agent}`;
  let credentials = perIo.get(settings);
  if (!credentials) {
    credentials = loadCredentials(inventory, io, env);
    perIo.set(settings, credentials);
  }
  const ready = await credentials;
  if (io.connect) return io.connect;
  // Loaded here, not at start-up: ssh2 is only needed once a host is to be contacted.
  const { sshConnector } = await import('../transport/ssh.js');
  return sshConnector(ready);
}

async function loadCredentials(inventory: Inventory, io: Io, env: NodeJS.ProcessEnv): Promise<SshCredentials> {
  const { key_file: keyFile, agent } = inventory.ssh;
  const problem = (path: string, message: string, hint: string): ConfigError =>
    new ConfigError([{ file: inventory.file, path: ['ssh', path], message, hint }]);
  const agentSocket = agent ? agentSocketOf(env) : undefined;
  if (typeof agentSocket === 'object')
    throw problem(
      'agent',
      agentSocket.problem,
      'start an agent and add your key (eval "$(ssh-agent)"; ssh-add ~/.ssh/id_ed25519), or set ssh.key_file instead',
    );
  const read = keyFile === undefined ? undefined : readKey(inventory, keyFile);
  let key = read && !read.encrypted ? read.key : undefined;
  if (read?.encrypted) {
    const fromFile = passphraseFromFile(inventory, env, io.cwd);
    if (fromFile !== undefined)
      key = unlock(inventory, read, fromFile.passphrase, `passphrase from ${PASSPHRASE_FILE_ENV}=${fromFile.shown}`);
    else if (agentSocket === undefined) {
      if (!(io.stdinIsTTY && io.stderrIsTTY)) {
        throw problem(
          'key_file',
          `the SSH key ${read.file} is protected by a passphrase: set ${PASSPHRASE_FILE_ENV} or run on a terminal, or use ssh.agent`,
          `${PASSPHRASE_FILE_ENV}=FILE names a file holding the passphrase (kept out of the repository)`,
        );
      }
      const typed = await askHidden(io, `Passphrase for the SSH key ${read.file}: `);
      if (typed === undefined)
        throw problem(
          'key_file',
          `no passphrase entered for the SSH key ${read.file}: cancelled, no host was contacted`,
          `type the passphrase, or set ${PASSPHRASE_FILE_ENV}`,
        );
      key = unlock(inventory, read, typed, 'passphrase typed at the prompt');
    }
    // else: agent and key_file, no passphrase file: the agent is expected to hold the key.
  }
  return { ...(key ? { key } : {}), ...(typeof agentSocket === 'string' ? { agentSocket } : {}) };
}

function readKey(inventory: Inventory, file: string): KeyFile {
  try {
    return readKeyFile(file);
  } catch (err) {
    throw keyProblem(inventory, err);
  }
}

function unlock(inventory: Inventory, read: { file: string; data: Buffer }, passphrase: string, source: string) {
  try {
    return unlockKey(read, passphrase);
  } catch (err) {
    if (err instanceof KeyFileError)
      throw new ConfigError([
        { ...keyDiagnostic(inventory, err), message: `the SSH key ${err.file}: ${err.problem} (${source})` },
      ]);
    throw err;
  }
}

function keyProblem(inventory: Inventory, err: unknown): unknown {
  return err instanceof KeyFileError ? new ConfigError([keyDiagnostic(inventory, err)]) : err;
}

function keyDiagnostic(inventory: Inventory, err: KeyFileError): Diagnostic {
  return {
    file: inventory.file,
    path: ['ssh', 'key_file'],
    message: `the SSH key ${err.file}: ${err.problem}`,
    hint: err.hint,
  };
}

/** $SSH_AUTH_SOCK, or why it cannot be used. */
function agentSocketOf(env: NodeJS.ProcessEnv): string | { problem: string } {
  const socket = env['SSH_AUTH_SOCK'];
  if (!socket) return { problem: 'ssh.agent is true but SSH_AUTH_SOCK is not set (no ssh-agent in this session)' };
  try {
    if (!statSync(socket).isSocket()) return { problem: `SSH_AUTH_SOCK=${socket} is not a socket` };
  } catch (err) {
    return { problem: `SSH_AUTH_SOCK=${socket}: ${describeFsError(err)} (has the agent stopped?)` };
  }
  return socket;
}

/** The passphrase in $KANKA_SSH_KEY_PASSPHRASE_FILE (relative to the working directory), trimmed like the vault password file. */
function passphraseFromFile(
  inventory: Inventory,
  env: NodeJS.ProcessEnv,
  cwd: string,
): { passphrase: string; shown: string } | undefined {
  const shown = env[PASSPHRASE_FILE_ENV];
  if (shown === undefined || shown === '') return undefined;
  const path = resolve(cwd, shown);
  let content: string;
  try {
    if (statSync(path).isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    content = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([
      {
        file: shown,
        message: `cannot read the SSH key passphrase file (from ${PASSPHRASE_FILE_ENV}): ${describeFsError(err)}`,
        hint: `fix ${PASSPHRASE_FILE_ENV}, or unset it to be asked on a terminal (key ${inventory.ssh.key_file ?? ''})`,
      },
    ]);
  }
  const passphrase = content.replace(/^[ \t\n\r\v\f]+|[ \t\n\r\v\f]+$/g, '');
  if (passphrase === '')
    throw new ConfigError([
      {
        file: shown,
        message: `the SSH key passphrase file (from ${PASSPHRASE_FILE_ENV}) is empty`,
        hint: 'write the passphrase on its first line',
      },
    ]);
  return { passphrase, shown };
}

/**
 * validate: the same checks without asking anything. Key files must exist, be readable and parse;
 * an encrypted key is decrypted only when KANKA_SSH_KEY_PASSPHRASE_FILE is set. Returns notes on
 * what was not checked; problems are a ConfigError.
 */
export function checkSshAuth(inventory: Inventory, cwd: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const notes: string[] = [];
  const { key_file: keyFile, agent } = inventory.ssh;
  if (agent) {
    const socket = agentSocketOf(env);
    if (typeof socket === 'object')
      notes.push(`ssh.agent: ${socket.problem}; plan and apply will need a running agent`);
  }
  if (keyFile === undefined) return notes;
  // The key lives on the operator's machine, not in the configuration: where it is absent (CI, a
  // fresh clone) validate says so and checks the rest; plan and apply need it and stop.
  if (!existsSync(keyFile)) {
    notes.push(
      `ssh.key_file: ${keyFile} does not exist on this machine, so it was not checked; plan and apply need it`,
    );
    return notes;
  }
  const read = readKey(inventory, keyFile);
  if (!read.encrypted) return notes;
  const fromFile = passphraseFromFile(inventory, env, cwd);
  if (fromFile)
    unlock(inventory, read, fromFile.passphrase, `passphrase from ${PASSPHRASE_FILE_ENV}=${fromFile.shown}`);
  else
    notes.push(
      `ssh.key_file: ${read.file} is protected by a passphrase, which was not checked (set ${PASSPHRASE_FILE_ENV} to check it)`,
    );
  return notes;
}
