import { createHash } from 'node:crypto';
import type { HelperDelegate, HelperOptions } from 'handlebars';

/** Handlebars passes an options object as the last argument of every helper call. */
function args(list: unknown[]): unknown[] {
  return list.slice(0, -1);
}

const num = (v: unknown): number => {
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n)) throw new Error(`expected a number, got ${JSON.stringify(v)}`);
  return n;
};

/**
 * Helpers a config writer needs. Arithmetic exists so sizes can be derived from facts
 * ("{{ floor (mul facts.memory_mb 0.5) }}M").
 */
export const templateHelpers: Record<string, HelperDelegate> = {
  eq: (...a: unknown[]) => { const [x, y] = args(a); return x === y; },
  ne: (...a: unknown[]) => { const [x, y] = args(a); return x !== y; },
  gt: (...a: unknown[]) => { const [x, y] = args(a); return num(x) > num(y); },
  lt: (...a: unknown[]) => { const [x, y] = args(a); return num(x) < num(y); },
  and: (...a: unknown[]) => args(a).every(Boolean),
  or: (...a: unknown[]) => args(a).some(Boolean),
  not: (...a: unknown[]) => !args(a)[0],
  /** {{default value fallback}}: the fallback when value is undefined, null or "". */
  default: (...a: unknown[]) => { const [v, d] = args(a); return v === undefined || v === null || v === '' ? d : v; },
  /** {{join list ", "}} */
  join: (...a: unknown[]) => { const [list, sep] = args(a); return Array.isArray(list) ? list.join(typeof sep === 'string' ? sep : ', ') : String(list ?? ''); },
  /** {{indent text 4}}: indents every line but the first. */
  indent: (...a: unknown[]) => { const [text, n] = args(a); const pad = ' '.repeat(num(n ?? 2)); return String(text ?? '').split('\n').join(`\n${pad}`); },
  upper: (...a: unknown[]) => String(args(a)[0] ?? '').toUpperCase(),
  lower: (...a: unknown[]) => String(args(a)[0] ?? '').toLowerCase(),
  json: (...a: unknown[]) => JSON.stringify(args(a)[0]),
  add: (...a: unknown[]) => args(a).reduce<number>((s, v) => s + num(v), 0),
  sub: (...a: unknown[]) => { const [x, y] = args(a); return num(x) - num(y); },
  mul: (...a: unknown[]) => args(a).reduce<number>((s, v) => s * num(v), 1),
  div: (...a: unknown[]) => { const [x, y] = args(a); return num(x) / num(y); },
  floor: (...a: unknown[]) => Math.floor(num(args(a)[0])),
  max: (...a: unknown[]) => Math.max(...args(a).map(num)),
  min: (...a: unknown[]) => Math.min(...args(a).map(num)),
  /** {{#each (hostsOf "backend")}}: host records (name, address, groups, vars) of groups or hosts, inventory order. */
  hostsOf: (...a: unknown[]) => hostsOf(a),
  /** {{addressOf mariadb_primary}}: the address of one host, by name. */
  addressOf: (...a: unknown[]) => {
    const hosts = hostsOf(a);
    if (hosts.length !== 1) throw new Error(`addressOf needs one host name, got ${JSON.stringify(args(a)[0])}`);
    return hosts[0]?.address;
  },
  /** {{join (addressesOf "backend" "frontend") ", "}}: their addresses. */
  addressesOf: (...a: unknown[]) => hostsOf(a).map((h) => h.address),
  /** {{hash32 host.name}}: a stable number in 1..2^31-1 (e.g. a MariaDB server_id that survives fleet changes). */
  hash32: (...a: unknown[]) => (createHash('sha256').update(String(args(a)[0] ?? '')).digest().readUInt32BE(0) % 2147483646) + 1,
  concat: (...a: unknown[]) => args(a).map((v) => String(v ?? '')).join(''),
  includes: (...a: unknown[]) => { const [list, v] = args(a); return Array.isArray(list) && list.includes(v); },
};

interface HostRecord {
  name: string;
  address: string;
  groups: string[];
  vars: Record<string, unknown>;
}

/** Hosts named directly or through their groups, from the template's root context. */
function hostsOf(a: unknown[]): HostRecord[] {
  const options = a[a.length - 1] as HelperOptions;
  const root = (options.data as { root?: { hosts?: Record<string, HostRecord> } } | undefined)?.root;
  const all = Object.values(root?.hosts ?? {});
  const wanted = args(a).flatMap((x) => (Array.isArray(x) ? x : [x])).map(String);
  if (wanted.includes('all')) return all;
  const unknown = wanted.filter((w) => !all.some((h) => h.name === w || h.groups.includes(w)));
  if (unknown.length > 0) throw new Error(`no group or host named ${unknown.join(', ')}`);
  return all.filter((h) => wanted.includes(h.name) || h.groups.some((g) => wanted.includes(g)));
}
