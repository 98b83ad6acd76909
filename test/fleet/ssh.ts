/** The system ssh client with the fleet key and pinned host keys; key generation. */
import { existsSync, readFileSync } from 'node:fs';
import { run, runOk } from './exec.js';
import type { Fleet, SshResult } from './types.js';

/** Generates an ed25519 key pair once; returns the public key line ("ssh-ed25519 AAAA..."). */
export async function ensureKeyPair(file: string, comment: string): Promise<string> {
  if (!existsSync(file) || !existsSync(`${file}.pub`)) {
    await runOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file], { input: 'y\n' });
  }
  return readPublicKey(file);
}

/** "ssh-ed25519 AAAA..." (type and key, without the comment). */
export function readPublicKey(file: string): string {
  const [type, key] = readFileSync(`${file}.pub`, 'utf8').trim().split(/\s+/);
  if (!type || !key) throw new Error(`${file}.pub is not an OpenSSH public key`);
  return `${type} ${key}`;
}

export function knownHostsLine(address: string, publicKey: string): string {
  return `${address} ${publicKey}`;
}

export function sshArgs(keyFile: string, knownHostsFile: string, connectTimeoutSec = 5): string[] {
  return [
    '-F',
    'none',
    '-i',
    keyFile,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    `UserKnownHostsFile=${knownHostsFile}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    `ConnectTimeout=${connectTimeoutSec}`,
    '-o',
    'LogLevel=ERROR',
  ];
}

export interface SshRunOptions {
  /** Kill ssh after this long (result code 124). Default 120 s. */
  timeoutMs?: number;
  /** Sent to the remote command's stdin. */
  input?: string;
  connectTimeoutSec?: number;
}

export function sshRun(
  keyFile: string,
  knownHostsFile: string,
  address: string,
  command: string,
  opts: SshRunOptions = {},
): Promise<SshResult> {
  const args = [...sshArgs(keyFile, knownHostsFile, opts.connectTimeoutSec), `root@${address}`, '--', command];
  return run('ssh', args, {
    timeoutMs: opts.timeoutMs ?? 120_000,
    ...(opts.input === undefined ? {} : { input: opts.input }),
  });
}

/**
 * Runs `command` (a shell command line) as root on a fleet host with the system ssh client, the fleet key
 * and the generated known_hosts (StrictHostKeyChecking=yes). For tests: checks effects independently of
 * the tool under test. Never throws for a failing command: look at `code` (255 = ssh failed).
 */
export async function sshToHost(
  fleet: Fleet,
  name: string,
  command: string,
  opts: SshRunOptions = {},
): Promise<SshResult> {
  const host = fleet.hosts.find((h) => h.name === name);
  if (!host)
    throw new Error(`no host "${name}" in fleet "${fleet.name}" (hosts: ${fleet.hosts.map((h) => h.name).join(', ')})`);
  return sshRun(fleet.sshKeyFile, fleet.knownHostsFile, host.address, command, opts);
}
