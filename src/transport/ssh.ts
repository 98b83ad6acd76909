import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { homedir } from 'node:os';
import type { Duplex } from 'node:stream';
import {
  Client,
  type AgentAuthMethod,
  type AuthMethod,
  type ConnectConfig,
  type ParsedKey,
  type PublicKeyAuthMethod,
} from 'ssh2';
import type { RemoteHost } from './host.js';
import { verifyHostKey } from './known-hosts.js';
import { ShellHost } from './shell-host.js';
import { KeyFileError, readKeyFile, type KeyFile } from './ssh-keys.js';
import {
  endpointOf,
  TransportError,
  type ConnectionTarget,
  type Connector,
  type ExecResult,
  type Transport,
} from './transport.js';

/** What a run authenticates with, loaded once before any connection (see src/cli/ssh-auth.ts). */
export interface SshCredentials {
  /** The parsed (decrypted) private key of ssh.key_file: offered first. */
  key?: ParsedKey;
  /** The ssh-agent socket ($SSH_AUTH_SOCK) when ssh.agent is true: its keys are offered after key. */
  agentSocket?: string;
}

/** The engine's connector over credentials loaded once for the run. */
export function sshConnector(credentials: SshCredentials): Connector {
  return (target) => connectShellHost(target, credentials);
}

/** One host: one SSH connection, commands compiled to shell. */
export async function connectShellHost(target: ConnectionTarget, credentials?: SshCredentials): Promise<RemoteHost> {
  const dir = process.env['KANKA_INFRA_RECORD_PROBES'];
  const record = dir ? (script: string) => appendFileSync(join(dir, `${target.host}.sh`), `${script}\n`) : undefined;
  return new ShellHost(await connectSsh(target, credentials), target.sudo, record);
}

/**
 * Opens one ssh2 connection per host (through a jump host if configured), reused for the whole run.
 * Without credentials (tests, tools) the target's key file is read here and must not be encrypted.
 */
export async function connectSsh(
  target: ConnectionTarget,
  credentials: SshCredentials = credentialsOf(target),
): Promise<Transport> {
  const endpoint = endpointOf(target);
  const fail = (failure: TransportError['failure'], reason: string) =>
    new TransportError(target.host, endpoint, failure, reason);
  const { key, agentSocket } = credentials;
  if (!key && !agentSocket) throw fail('auth', 'no SSH key_file and no agent configured in the inventory ssh settings');

  let jumpClient: Client | undefined;
  let sock: Duplex | undefined;
  if (target.jump) {
    const jump = target.jump;
    const jumpEndpoint = endpointOf(jump);
    jumpClient = await openClient(
      { ...target, host: `${target.host} via jump host`, address: jump.address, port: jump.port, user: jump.user },
      credentials,
      undefined,
      (failure, reason) => new TransportError(target.host, endpoint, failure, `jump host ${jumpEndpoint}: ${reason}`),
    );
    const jc = jumpClient;
    sock = await new Promise<Duplex>((resolve, reject) => {
      jc.forwardOut('127.0.0.1', 0, target.address, target.port, (err, stream) => {
        if (err) reject(fail('unreachable', `jump host ${jumpEndpoint} could not reach it: ${err.message}`));
        else resolve(stream);
      });
    });
  }
  const client = await openClient(target, credentials, sock, fail);
  return new SshTransport(client, jumpClient, target.host, endpoint);
}

/** The target's own key file (unencrypted only) and agent, for callers that did not load credentials. */
function credentialsOf(target: ConnectionTarget): SshCredentials {
  const fail = (reason: string) => new TransportError(target.host, endpointOf(target), 'auth', reason);
  let key: ParsedKey | undefined;
  if (target.keyFile) {
    const file = target.keyFile.replace(/^~(?=\/)/, homedir());
    let read: KeyFile;
    try {
      read = readKeyFile(file);
    } catch (err) {
      throw err instanceof KeyFileError ? fail(err.message) : err;
    }
    if (read.encrypted) throw fail(`SSH key ${file} is protected by a passphrase and no passphrase was loaded`);
    key = read.key;
  }
  const agentSocket = target.agent ? process.env['SSH_AUTH_SOCK'] : undefined;
  if (target.agent && !agentSocket)
    throw fail('ssh.agent is true but SSH_AUTH_SOCK is not set (is ssh-agent running?)');
  return { ...(key ? { key } : {}), ...(agentSocket ? { agentSocket } : {}) };
}

function openClient(
  target: ConnectionTarget,
  credentials: SshCredentials,
  sock: Duplex | undefined,
  fail: (failure: TransportError['failure'], reason: string) => TransportError,
): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let hostKeyProblem: string | undefined;
    let settled = false;
    const config: ConnectConfig = {
      host: target.address,
      port: target.port,
      username: target.user,
      readyTimeout: target.connectTimeoutMs,
      keepaliveInterval: target.keepaliveMs,
      keepaliveCountMax: 3,
      hostVerifier: (key: Buffer) => {
        const verdict = verifyHostKey(target.knownHostsFile, target.address, target.port, key);
        if (!verdict.ok) hostKeyProblem = verdict.message;
        return verdict.ok;
      },
      // Straight to the key, then the agent's keys (ssh2 would try "none" first: a refused attempt
      // the host delays on purpose). The key is already parsed: nothing is read or decrypted per host.
      authHandler: authMethods(target.user, credentials),
      ...(sock ? { sock } : {}),
    };
    client.once('ready', () => {
      settled = true;
      resolve(client);
    });
    client.once('error', (err: Error & { level?: string; code?: string }) => {
      if (settled) return;
      settled = true;
      client.end();
      if (hostKeyProblem) reject(fail('host-key', hostKeyProblem));
      else if (err.level === 'client-authentication')
        reject(fail('auth', `authentication failed for user ${target.user} (key not accepted)`));
      else reject(fail('unreachable', describeNetworkError(err, target.connectTimeoutMs)));
    });
    client.connect(config);
    // Nagle off: the handshake and each exec are a few small packets that would otherwise wait for
    // the host's delayed ACK (the bench shows the difference per connection).
    client.setNoDelay(true);
  });
}

function authMethods(username: string, { key, agentSocket }: SshCredentials): AuthMethod[] {
  const publickey: PublicKeyAuthMethod[] = key ? [{ type: 'publickey', username, key }] : [];
  const agent: AgentAuthMethod[] = agentSocket ? [{ type: 'agent', username, agent: agentSocket }] : [];
  return [...publickey, ...agent];
}

function describeNetworkError(err: Error & { code?: string; level?: string }, timeoutMs: number): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return 'connection refused (is sshd running and the port right?)';
    case 'EHOSTUNREACH':
      return 'host unreachable (no route to it)';
    case 'ENETUNREACH':
      return 'network unreachable';
    case 'ENOTFOUND':
      return 'address not found (DNS lookup failed)';
    case 'ETIMEDOUT':
      return `connection timed out after ${timeoutMs / 1000} s`;
    case 'ECONNRESET':
      return 'connection reset by the host';
    default:
      break;
  }
  if (err.level === 'client-timeout' || /Timed out while waiting for handshake/.test(err.message)) {
    return `connection timed out after ${timeoutMs / 1000} s (host down or firewalled?)`;
  }
  return err.message;
}

class SshTransport implements Transport {
  roundTrips = 0;
  private lost: string | undefined;

  constructor(
    private readonly client: Client,
    private readonly jump: Client | undefined,
    private readonly host: string,
    private readonly endpoint: string,
  ) {
    // After the handshake an 'error' with no listener would end the process: one host lost is not that.
    for (const c of jump ? [client, jump] : [client]) {
      c.on('error', (err: Error) => {
        this.lost = err.message;
      });
    }
    client.on('close', () => {
      this.lost ??= 'connection closed';
    });
  }

  exec(command: string, stdin?: string | Buffer): Promise<ExecResult> {
    this.roundTrips++;
    return new Promise((resolve, reject) => {
      const lostError = () =>
        new TransportError(this.host, this.endpoint, 'lost', `connection lost: ${this.lost ?? 'unknown reason'}`);
      if (this.lost) {
        reject(lostError());
        return;
      }
      this.client.exec(command, (err, stream) => {
        if (err) {
          reject(new TransportError(this.host, this.endpoint, 'lost', `could not run a command: ${err.message}`));
          return;
        }
        const out: Buffer[] = [];
        const errOut: Buffer[] = [];
        stream.on('data', (d: Buffer) => out.push(d));
        stream.stderr.on('data', (d: Buffer) => errOut.push(d));
        stream.on('close', (code: number | null, signal?: string) => {
          if (code === null && signal === undefined && this.lost) {
            reject(lostError());
            return;
          }
          resolve({
            stdout: Buffer.concat(out).toString('utf8'),
            stderr: Buffer.concat(errOut).toString('utf8'),
            code: code ?? (signal ? 128 : 255),
          });
        });
        stream.end(stdin ?? '');
      });
    });
  }

  close(): void {
    this.client.end();
    this.jump?.end();
  }
}
