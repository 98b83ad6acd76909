import { createHash, createHmac } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';

/** One pinned key from an OpenSSH known_hosts file. */
export interface KnownHostEntry {
  line: number;
  patterns: string;
  keyType: string;
  key: Buffer;
  revoked: boolean;
}

export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The name OpenSSH uses for a host in known_hosts: "addr", or "[addr]:port" off port 22. */
export function knownHostsName(address: string, port: number): string {
  return port === 22 ? address : `[${address}]:${port}`;
}

/** The key type named inside an SSH public key blob (e.g. "ssh-ed25519"). */
export function keyTypeOf(key: Buffer): string {
  if (key.length < 4) return 'unknown';
  const len = key.readUInt32BE(0);
  return key.subarray(4, 4 + len).toString('latin1');
}

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    let fields = line.split(/\s+/);
    let revoked = false;
    if (fields[0]?.startsWith('@')) {
      if (fields[0] === '@revoked') revoked = true;
      else return; // @cert-authority: certificates are not used here
      fields = fields.slice(1);
    }
    const [patterns, keyType, keyB64] = fields;
    if (!patterns || !keyType || !keyB64) return;
    entries.push({ line: i + 1, patterns, keyType, key: Buffer.from(keyB64, 'base64'), revoked });
  });
  return entries;
}

/** A known_hosts file's text; empty when there is none yet (any other read error is thrown). */
export function readKnownHosts(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return '';
  }
}

// Every host of a run checks its key against the same file: parse it once while it is unchanged.
const parsed = new Map<string, { stamp: string; entries: KnownHostEntry[] }>();

function entriesOf(file: string): KnownHostEntry[] {
  let stamp = 'absent';
  try {
    const st = statSync(file);
    stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const cached = parsed.get(file);
  if (cached?.stamp === stamp) return cached.entries;
  const entries = parseKnownHosts(readKnownHosts(file));
  parsed.set(file, { stamp, entries });
  return entries;
}

function matchesPattern(pattern: string, name: string): boolean {
  if (pattern.startsWith('|1|')) {
    // Hashed entry: |1|base64(salt)|base64(HMAC-SHA1(salt, name))
    const [, , salt, hash] = pattern.split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  if (!/[*?]/.test(pattern)) return pattern === name;
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  return re.test(name);
}

export function entryMatches(entry: KnownHostEntry, name: string): boolean {
  let matched = false;
  for (const p of entry.patterns.split(',')) {
    if (p.startsWith('!')) {
      if (matchesPattern(p.slice(1), name)) return false;
    } else if (matchesPattern(p, name)) matched = true;
  }
  return matched;
}

export type HostKeyVerdict = { ok: true } | { ok: false; kind: 'unknown' | 'changed' | 'revoked'; message: string };

/** Decides whether `key`, offered by the host at address:port, is the pinned one. */
export function verifyHostKey(file: string, address: string, port: number, key: Buffer): HostKeyVerdict {
  const name = knownHostsName(address, port);
  const offered = `${keyTypeOf(key)} ${fingerprint(key)}`;
  const pinLine = `${name} ${keyTypeOf(key)} ${key.toString('base64')}`;
  const trustHint = `If this is the right host (compare the fingerprint on its console: ssh-keygen -lf /etc/ssh/ssh_host_${keyTypeOf(key).replace(/^ssh-/, '')}_key.pub), pin it with:\n  printf '%s\\n' '${pinLine}' >> ${file}`;
  const matching = entriesOf(file).filter((e) => entryMatches(e, name));
  if (matching.some((e) => e.revoked && e.key.equals(key))) {
    return { ok: false, kind: 'revoked', message: `host key ${offered} is marked @revoked in ${file}` };
  }
  if (matching.some((e) => !e.revoked && e.key.equals(key))) return { ok: true };
  const sameType = matching.filter((e) => !e.revoked && e.keyType === keyTypeOf(key));
  const pinned = sameType.length > 0 ? sameType : matching.filter((e) => !e.revoked);
  if (pinned.length > 0) {
    const was = pinned.map((e) => `${e.keyType} ${fingerprint(e.key)} (${file}:${e.line})`).join(', ');
    return {
      ok: false,
      kind: 'changed',
      message:
        `HOST KEY CHANGED: offered ${offered}, pinned ${was}. Someone may be intercepting the connection, ` +
        `or the host was reinstalled. Connection refused. If you know why the key changed, delete the old ` +
        `line(s) and pin the new key:\n  printf '%s\\n' '${pinLine}' >> ${file}`,
    };
  }
  return { ok: false, kind: 'unknown', message: `host key not pinned: ${offered} is not in ${file}. ${trustHint}` };
}
