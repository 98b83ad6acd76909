import { createHash } from 'node:crypto';
import type { HelperDelegate, HelperOptions } from 'handlebars';
import { networksOf } from '../values/cidr.js';
import { standInValue } from '../secrets/stand-in.js';
import { publicKeyLine } from '../secrets/ssh-key.js';
import { acmeThumbprint } from './acme.js';
import * as encode from './encoders.js';

/** Handlebars passes an options object as the last argument of every helper call. */
function args(list: unknown[]): unknown[] {
  return list.slice(0, -1);
}

/** As `{{#if}}` and a bare `when: name` see a value: an empty list is false too (`when: "not acme_names"`). */
const truthy = (v: unknown): boolean => (Array.isArray(v) ? v.length > 0 : Boolean(v));

const num = (v: unknown): number => {
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n)) throw new Error(`expected a number, got ${JSON.stringify(v)}`);
  return n;
};

/**
 * A helper argument as text. A list or mapping is refused: String() would give "a,b" or
 * "[object Object]" in a config file, which is never what the template meant.
 */
const text = (v: unknown): string => {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) throw new Error('expected text, got a list (use join or each)');
  if (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null)
    throw new Error('expected text, got a mapping (name one of its keys)');
  // Handlebars' SafeString and our own value types say how they read as text.
  return (v as { toString(): string }).toString();
};

/** A bound on `range`, so a typo (a count of 10000000) fails instead of planning millions of tasks. */
const RANGE_MAX = 1000;

/**
 * Helpers a config writer needs. Arithmetic exists so sizes can be derived from facts
 * ("{{ floor (mul facts.memory_mb 0.5) }}M").
 */
export const templateHelpers: Record<string, HelperDelegate> = {
  eq: (...a: unknown[]) => {
    const [x, y] = args(a);
    return x === y;
  },
  ne: (...a: unknown[]) => {
    const [x, y] = args(a);
    return x !== y;
  },
  gt: (...a: unknown[]) => {
    const [x, y] = args(a);
    return num(x) > num(y);
  },
  lt: (...a: unknown[]) => {
    const [x, y] = args(a);
    return num(x) < num(y);
  },
  and: (...a: unknown[]) => args(a).every(truthy),
  or: (...a: unknown[]) => args(a).some(truthy),
  not: (...a: unknown[]) => !truthy(args(a)[0]),
  /** {{default value fallback}}: the fallback when value is undefined, null or "". */
  default: (...a: unknown[]) => {
    const [v, d] = args(a);
    return v === undefined || v === null || v === '' ? d : v;
  },
  /** {{join list ", "}} */
  join: (...a: unknown[]) => {
    const [list, sep] = args(a);
    return Array.isArray(list) ? list.join(typeof sep === 'string' ? sep : ', ') : text(list);
  },
  /** {{indent text 4}}: indents every line but the first. */
  indent: (...a: unknown[]) => {
    const [value, n] = args(a);
    const pad = ' '.repeat(num(n ?? 2));
    return text(value).split('\n').join(`\n${pad}`);
  },
  upper: (...a: unknown[]) => text(args(a)[0]).toUpperCase(),
  lower: (...a: unknown[]) => text(args(a)[0]).toLowerCase(),
  /** {{json value}}: JSON; a JSON string is also a Python 3 string literal (thumbor.conf). */
  json: (...a: unknown[]) => JSON.stringify(args(a)[0]),
  add: (...a: unknown[]) => args(a).reduce<number>((s, v) => s + num(v), 0),
  sub: (...a: unknown[]) => {
    const [x, y] = args(a);
    return num(x) - num(y);
  },
  mul: (...a: unknown[]) => args(a).reduce<number>((s, v) => s * num(v), 1),
  div: (...a: unknown[]) => {
    const [x, y] = args(a);
    return num(x) / num(y);
  },
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
  hash32: (...a: unknown[]) =>
    (createHash('sha256')
      .update(text(args(a)[0]))
      .digest()
      .readUInt32BE(0) %
      2147483646) +
    1,
  /**
   * {{firstOther mariadb_primary (hostsOf "backend")}}: the name of the first host (or name) after
   * the first argument that is not it, in order; "" when there is none.
   */
  firstOther: (...a: unknown[]) => firstOther(a),
  /**
   * {{sshPublicKey secrets.backup_ssh_key}}: the OpenSSH public key line of a private key, so the
   * vault holds only the private key. A secret's stand-in (validate without the vault password)
   * gives a stand-in line.
   */
  sshPublicKey: (...a: unknown[]) => {
    const key = args(a)[0];
    if (typeof key !== 'string') throw new Error('sshPublicKey needs a private key (text)');
    if (key.startsWith(STAND_IN_PREFIX)) return 'ssh-ed25519 stand-in-public-key';
    return publicKeyLine(key);
  },
  /** {{#with (pick tls_policies tls_policy)}}: one entry of a map; a key it does not have is an error naming those it has. */
  pick: (...a: unknown[]) => {
    const [map, key] = args(a);
    if (map === null || typeof map !== 'object' || Array.isArray(map))
      throw new Error(`pick: expected a map, got ${JSON.stringify(map)}`);
    const keys = Object.keys(map);
    if (typeof key !== 'string' || !keys.includes(key))
      throw new Error(`pick: ${JSON.stringify(key)} is not one of ${keys.join(', ')}`);
    return (map as Record<string, unknown>)[key];
  },
  /**
   * {{join (networks ssh_allowed_networks 4) ", "}}: the IPv4 (4) or IPv6 (6) networks of a list,
   * rebuilt from their numbers (192.0.2.0/24); a value that is not a network is an error, and a
   * network inside another is left out (nftables refuses overlapping ones in a set).
   */
  networks: (...a: unknown[]) => {
    const [list, family] = args(a);
    if (!Array.isArray(list)) throw new Error(`networks: expected a list of IP networks, got ${JSON.stringify(list)}`);
    if (family !== 4 && family !== 6)
      throw new Error(`networks: the family must be 4 or 6, got ${JSON.stringify(family)}`);
    return networksOf(list, family);
  },
  concat: (...a: unknown[]) =>
    args(a)
      .map((v) => text(v))
      .join(''),
  includes: (...a: unknown[]) => {
    const [list, v] = args(a);
    return Array.isArray(list) && list.includes(v);
  },
  /** loop: "{{ range 1 laravel_queue_workers }}": the integers from..to, both included (empty when to < from). */
  range: (...a: unknown[]) => {
    const [from, to] = args(a).map(num);
    if (from === undefined || to === undefined || !Number.isInteger(from) || !Number.isInteger(to))
      throw new Error(`range needs two integers, got ${JSON.stringify(args(a))}`);
    if (to - from >= RANGE_MAX) throw new Error(`range ${from} ${to} has more than ${RANGE_MAX} items`);
    return to < from ? [] : Array.from({ length: to - from + 1 }, (_, i) => from + i);
  },

  // Encoders: one per format a value lands in (src/template/encoders.ts). Each returns a whole
  // token (quotes included) and refuses, with an error, a value the format cannot carry.
  /** {{quote path}}: one POSIX shell word (command run/unless, check, validate). */
  quote: (...a: unknown[]) => encode.quote(args(a)[0]),
  /** {{quoteWords pip_args}}: space-separated shell arguments, each quoted on its own. */
  quoteWords: (...a: unknown[]) => encode.quoteWords(args(a)[0]),
  /** KEY={{dotenv secrets.x}}: a Laravel/phpdotenv .env value, always double-quoted. */
  dotenv: (...a: unknown[]) => encode.dotenv(args(a)[0]),
  /** root {{nginx path}};: one nginx directive argument (`$` refused: nginx has no escape for it). */
  nginx: (...a: unknown[]) => encode.nginx(args(a)[0]),
  /** crt {{haproxy path}}: one haproxy config argument, single-quoted when needed. */
  haproxy: (...a: unknown[]) => encode.haproxy(args(a)[0]),
  /** password = {{mysqlOption secrets.x}}: a value in a MariaDB option file (my.cnf). */
  mysqlOption: (...a: unknown[]) => encode.mysqlOption(args(a)[0]),
  /** MASTER_PASSWORD={{sqlString secrets.x}}: a MariaDB SQL string literal. */
  sqlString: (...a: unknown[]) => encode.sqlString(args(a)[0]),
  /** requirepass {{redis secrets.x}}: one redis.conf argument. */
  redis: (...a: unknown[]) => encode.redis(args(a)[0]),
  /** env[NAME] = {{phpIni value}}: a php-fpm pool / php.ini value, always double-quoted. */
  phpIni: (...a: unknown[]) => encode.phpIni(args(a)[0]),
  /** Environment={{systemd (concat "NAME=" value)}}: one word of a systemd unit setting. */
  systemd: (...a: unknown[]) => encode.systemd(args(a)[0]),
  /** ExecStart=/bin/x {{systemdExec arg}}: one argument of a systemd command line (`$` as `$$`). */
  systemdExec: (...a: unknown[]) => encode.systemdExec(args(a)[0]),
  /** Unattended-Upgrade::Mail {{aptConf address}};: a value in an apt.conf file, double-quoted. */
  aptConf: (...a: unknown[]) => encode.aptConf(args(a)[0]),
  /** {{sysctlKey @key}} = {{sysctlValue this}}: one line of a sysctl.d file. */
  sysctlKey: (...a: unknown[]) => encode.sysctlKey(args(a)[0]),
  sysctlValue: (...a: unknown[]) => encode.sysctlValue(args(a)[0]),
  /** OnCalendar={{systemdValue schedule}}: a whole single-value systemd setting, unquoted. */
  systemdValue: (...a: unknown[]) => encode.systemdValue(args(a)[0]),
  /** {{#each acme_names}}{{dnsName this}}{{/each}}: a DNS name a certificate is for (no wildcard). */
  dnsName: (...a: unknown[]) => encode.dnsName(args(a)[0]),
  /** {{acmeThumbprint secrets.acme_account_key}}: the ACME account key's JWK thumbprint (base64url). */
  acmeThumbprint: (...a: unknown[]) => acmeThumbprint(args(a)[0]),
};

const STAND_IN_PREFIX = standInValue('');

function firstOther(a: unknown[]): string {
  const [exclude, ...candidates] = args(a);
  const names = candidates
    .flatMap((x) => (Array.isArray(x) ? (x as unknown[]) : [x]))
    .map((c) =>
      c !== null && typeof c === 'object' && !Array.isArray(c) ? text((c as { name?: unknown }).name) : text(c),
    );
  return names.find((n) => n !== '' && n !== exclude) ?? '';
}

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
  const wanted = args(a)
    .flatMap((x) => (Array.isArray(x) ? (x as unknown[]) : [x]))
    .map(String);
  if (wanted.includes('all')) return all;
  const unknown = wanted.filter((w) => !all.some((h) => h.name === w || h.groups.includes(w)));
  if (unknown.length > 0) throw new Error(`no group or host named ${unknown.join(', ')}`);
  return all.filter((h) => wanted.includes(h.name) || h.groups.some((g) => wanted.includes(g)));
}
