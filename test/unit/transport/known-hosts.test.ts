import { createHmac, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fingerprint, keyTypeOf, verifyHostKey } from '../../../src/transport/known-hosts.js';
import { tempTree } from '../../support/tmp.js';

/** An ssh-ed25519 public key blob: string "ssh-ed25519" + string(32 bytes). */
function ed25519Blob(seed = randomBytes(32)): Buffer {
  const type = Buffer.from('ssh-ed25519');
  const len = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  return Buffer.concat([len(type.length), type, len(seed.length), seed]);
}

function knownHosts(lines: string[]): string {
  const dir = tempTree();
  const file = join(dir, 'known_hosts');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

describe('host key pinning', () => {
  const key = ed25519Blob();
  const other = ed25519Blob();
  const line = (host: string, k: Buffer) => `${host} ${keyTypeOf(k)} ${k.toString('base64')}`;

  it('accepts the pinned key, by address and by [address]:port', () => {
    expect(verifyHostKey(knownHosts([line('10.0.0.5', key)]), '10.0.0.5', 22, key)).toEqual({ ok: true });
    expect(verifyHostKey(knownHosts([line('[10.0.0.5]:2222', key)]), '10.0.0.5', 2222, key)).toEqual({ ok: true });
  });

  it('accepts hashed entries and comma lists', () => {
    const salt = randomBytes(20);
    const hash = createHmac('sha1', salt).update('10.0.0.5').digest('base64');
    expect(
      verifyHostKey(knownHosts([line(`|1|${salt.toString('base64')}|${hash}`, key)]), '10.0.0.5', 22, key).ok,
    ).toBe(true);
    expect(verifyHostKey(knownHosts([line('backend1,10.0.0.5', key)]), '10.0.0.5', 22, key).ok).toBe(true);
  });

  it('refuses an unknown host with its fingerprint and the line that pins it', () => {
    const file = knownHosts([line('10.0.0.6', other)]);
    const v = verifyHostKey(file, '10.0.0.5', 22, key);
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(v.kind).toBe('unknown');
    expect(v.message).toContain(`ssh-ed25519 ${fingerprint(key)}`);
    expect(v.message).toContain(`printf '%s\\n' '${line('10.0.0.5', key)}' >> ${file}`);
  });

  it('a missing known_hosts file means every host is unknown', () => {
    const v = verifyHostKey('/nonexistent/known_hosts', '10.0.0.5', 22, key);
    expect(v.ok || v.kind).toBe('unknown');
  });

  it('refuses a changed key loudly, naming the pinned one and its line', () => {
    const file = knownHosts(['# comment', line('10.0.0.5', other)]);
    const v = verifyHostKey(file, '10.0.0.5', 22, key);
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(v.kind).toBe('changed');
    expect(v.message).toMatch(/^HOST KEY CHANGED/);
    expect(v.message).toContain(`pinned ssh-ed25519 ${fingerprint(other)} (${file}:2)`);
  });

  it('refuses a revoked key', () => {
    const v = verifyHostKey(knownHosts([`@revoked ${line('*', key)}`, line('10.0.0.5', key)]), '10.0.0.5', 22, key);
    expect(v.ok || v.kind).toBe('revoked');
  });

  it('fingerprints like ssh-keygen -l (SHA256, base64 without padding)', () => {
    expect(fingerprint(key)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });
});
