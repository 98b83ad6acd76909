import { Client } from 'ssh2';
import { fingerprint, keyTypeOf } from './known-hosts.js';
import { endpointOf, TransportError } from './transport.js';

export interface OfferedKey {
  key: Buffer;
  type: string;
  fingerprint: string;
}

/**
 * Reads the host key a new host offers, without logging in (the handshake stops at the key):
 * what add-host shows a person, or compares with --host-key, before pinning it.
 */
export function fetchHostKey(target: {
  host: string;
  address: string;
  port: number;
  connectTimeoutMs: number;
}): Promise<OfferedKey> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let offered: OfferedKey | undefined;
    const endpoint = endpointOf(target);
    client.on('error', (err: Error & { code?: string }) => {
      client.end();
      if (offered) resolve(offered);
      else
        reject(
          new TransportError(
            target.host,
            endpoint,
            'unreachable',
            err.code === 'ECONNREFUSED' ? 'connection refused (is sshd running?)' : err.message,
          ),
        );
    });
    client.connect({
      host: target.address,
      port: target.port,
      username: 'kanka-infra-host-key-check',
      readyTimeout: target.connectTimeoutMs,
      hostVerifier: (key: Buffer) => {
        offered = { key, type: keyTypeOf(key), fingerprint: fingerprint(key) };
        return false;
      },
    });
  });
}
