import { isIPv4, isIPv6 } from 'node:net';

/**
 * IP networks in CIDR notation (192.0.2.0/24, 2001:db8::/32) or single addresses, parsed strictly:
 * what reaches a firewall rule is rebuilt from the numbers, never copied from the input.
 */
export interface Network {
  family: 4 | 6;
  /** The network address as a number (host bits zero). */
  bits: bigint;
  prefix: number;
}

export type ParsedNetwork = { ok: true; network: Network } | { ok: false; problem: string; hint?: string };

const width = (family: 4 | 6) => (family === 4 ? 32 : 128);

function ipv4Bits(a: string): bigint {
  return a.split('.').reduce((n, part) => (n << 8n) | BigInt(Number(part)), 0n);
}

function ipv6Bits(a: string): bigint {
  // An embedded IPv4 tail (::ffff:192.0.2.1) becomes two groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(a)?.[1];
  let text = a;
  if (v4 !== undefined) {
    const n = ipv4Bits(v4);
    text = `${a.slice(0, -v4.length)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups =
    tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** The address part of `bits`, written the usual way (IPv6 with the longest run of zero groups as ::). */
function addressText(family: 4 | 6, bits: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((bits >> s) & 0xffn)).join('.');
  const groups = [112n, 96n, 80n, 64n, 48n, 32n, 16n, 0n].map((s) => (bits >> s) & 0xffffn);
  let best = { at: -1, len: 0 };
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0n) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0n) j++;
    if (j - i > best.len && j - i > 1) best = { at: i, len: j - i };
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.at < 0) return hex.join(':');
  return `${hex.slice(0, best.at).join(':')}::${hex.slice(best.at + best.len).join(':')}`;
}

export function networkText(n: Network): string {
  return `${addressText(n.family, n.bits)}/${n.prefix}`;
}

/** "192.0.2.0/24", "2001:db8::/32", or one address ("192.0.2.7" = 192.0.2.7/32). */
export function parseNetwork(value: string): ParsedNetwork {
  const slash = value.indexOf('/');
  const address = slash < 0 ? value : value.slice(0, slash);
  const prefixText = slash < 0 ? undefined : value.slice(slash + 1);
  const family = isIPv4(address) ? 4 : isIPv6(address) && !address.includes('%') ? 6 : undefined;
  if (family === undefined)
    return {
      ok: false,
      problem: `${JSON.stringify(value)} is not an IP network: "${address}" is not an IPv4 or IPv6 address`,
    };
  const max = width(family);
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText))
    return {
      ok: false,
      problem: `${JSON.stringify(value)} is not an IP network: the prefix length after "/" must be a number from 0 to ${max}`,
    };
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (prefix > max)
    return {
      ok: false,
      problem: `${JSON.stringify(value)} is not an IP network: an IPv${family} prefix length is at most ${max}`,
    };
  const bits = family === 4 ? ipv4Bits(address) : ipv6Bits(address);
  const hostMask = (1n << BigInt(max - prefix)) - 1n;
  if ((bits & hostMask) !== 0n) {
    const network: Network = { family, bits: bits & ~hostMask, prefix };
    return {
      ok: false,
      problem: `${JSON.stringify(value)} has host bits set after the /${prefix} prefix`,
      hint: `write the network, ${networkText(network)}, or one address as ${address}/${max}`,
    };
  }
  return { ok: true, network: { family, bits, prefix } };
}

/** Whether `outer` contains `inner` (same family, shorter or equal prefix, same leading bits). */
export function contains(outer: Network, inner: Network): boolean {
  if (outer.family !== inner.family || outer.prefix > inner.prefix) return false;
  const shift = BigInt(width(outer.family) - outer.prefix);
  return outer.bits >> shift === inner.bits >> shift;
}

/** Whether the address `ip` is inside one of `networks`. */
export function networksContain(networks: readonly Network[], ip: string): boolean {
  const parsed = parseNetwork(ip);
  return parsed.ok && networks.some((n) => contains(n, parsed.network));
}

/**
 * The networks of one family, canonical, without those inside another (nftables refuses
 * overlapping intervals in one set), in input order. Throws on a value that is not a network.
 */
export function networksOf(values: readonly unknown[], family: 4 | 6): string[] {
  const all = values.map((v) => {
    const parsed =
      typeof v === 'string'
        ? parseNetwork(v)
        : ({ ok: false, problem: `expected an IP network as a string, got ${JSON.stringify(v)}` } as const);
    if (!parsed.ok) throw new Error(parsed.problem);
    return parsed.network;
  });
  const mine = all.filter((n) => n.family === family);
  const kept = mine.filter((n, i) => !mine.some((o, j) => j !== i && contains(o, n) && (o.prefix < n.prefix || j < i)));
  return kept.map(networkText);
}
