import { readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import ssh2, { type AuthContext, type ParsedKey } from 'ssh2';
import { afterEach, describe, expect, it } from 'vitest';
import { connectSsh } from '../../../src/transport/ssh.js';
import { readKeyFile, unlockKey } from '../../../src/transport/ssh-keys.js';
import type { ConnectionTarget } from '../../../src/transport/transport.js';
import { sshKeygen } from '../../support/ssh-keygen.js';
import { ed25519KeyPair } from '../../support/ssh-key.js';
import { tempTree } from '../../support/tmp.js';

const servers: ssh2.Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** A local ssh2 server that accepts one public key, records the auth methods tried, and answers exec with "ran: CMD". */
async function server(
  dir: string,
  accepted: ParsedKey,
): Promise<{ port: number; knownHosts: string; methods: string[] }> {
  const hostKey = ed25519KeyPair();
  const methods: string[] = [];
  const srv = new ssh2.Server({ hostKeys: [hostKey.private] }, (client) => {
    client.on('authentication', (ctx: AuthContext) => {
      methods.push(ctx.method);
      if (ctx.method !== 'publickey' || ctx.key.algo !== accepted.type || !ctx.key.data.equals(accepted.getPublicSSH()))
        return ctx.reject(['publickey']);
      // Without a signature the client only asks whether the key would do; with one, it must verify.
      if (ctx.signature && accepted.verify(ctx.blob ?? Buffer.alloc(0), ctx.signature, ctx.hashAlgo) !== true)
        return ctx.reject(['publickey']);
      ctx.accept();
    });
    client.on('ready', () => {
      client.on('session', (accept) => {
        accept().on('exec', (acceptExec, _reject, info) => {
          const stream = acceptExec();
          stream.write(`ran: ${info.command}`);
          stream.exit(0);
          stream.end();
        });
      });
    });
    client.on('error', () => {});
  });
  servers.push(srv);
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as AddressInfo).port;
  const knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, `[127.0.0.1]:${port} ${hostKey.public}\n`);
  return { port, knownHosts, methods };
}

const target = (port: number, knownHostsFile: string): ConnectionTarget => ({
  host: 'local',
  address: '127.0.0.1',
  port,
  user: 'root',
  agent: false,
  knownHostsFile,
  connectTimeoutMs: 10_000,
  keepaliveMs: 0,
  sudo: false,
});

describe('logging in with a key loaded before connecting', { timeout: 30_000 }, () => {
  it('a passphrase-protected PEM RSA key, unlocked once, logs in with publickey straight away (no "none" attempt)', async () => {
    const dir = tempTree();
    const read = readKeyFile(sshKeygen(dir, 'id_rsa', { type: 'rsa', pem: true, passphrase: 'secret pw' }));
    if (!read.encrypted) throw new Error('expected an encrypted key');
    const key = unlockKey(read, 'secret pw');
    const srv = await server(dir, key);
    const t = await connectSsh(target(srv.port, srv.knownHosts), { key });
    try {
      expect(await t.exec('true')).toMatchObject({ stdout: 'ran: true', code: 0 });
      expect(srv.methods[0]).toBe('publickey');
      expect(srv.methods).not.toContain('none');
    } finally {
      t.close();
    }
  });

  it('a key the server does not accept is an authentication failure; without credentials an encrypted key file is refused before connecting', async () => {
    const dir = tempTree();
    const good = readKeyFile(sshKeygen(dir, 'good', { type: 'ed25519' }));
    const other = readKeyFile(sshKeygen(dir, 'other', { type: 'ed25519' }));
    if (good.encrypted || other.encrypted) throw new Error('expected plain keys');
    const srv = await server(dir, good.key);
    await expect(connectSsh(target(srv.port, srv.knownHosts), { key: other.key })).rejects.toMatchObject({
      failure: 'auth',
      message: expect.stringMatching(/authentication failed for user root/),
    });

    const locked = sshKeygen(dir, 'locked', { type: 'ed25519', passphrase: 'secret pw' });
    const tried = srv.methods.length;
    await expect(connectSsh({ ...target(srv.port, srv.knownHosts), keyFile: locked })).rejects.toMatchObject({
      failure: 'auth',
      message: expect.stringMatching(/protected by a passphrase/),
    });
    expect(srv.methods.length).toBe(tried);
    expect(readFileSync(srv.knownHosts, 'utf8')).toContain(`[127.0.0.1]:${srv.port}`);
  });
});
