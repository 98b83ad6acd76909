import { lines, sh } from '../shell/command.js';
import type { Fact, SharedPrelude } from './fact.js';

export interface PackageState {
  /** Installed version, or undefined when not (fully) installed. */
  installed?: string;
  /** Version apt would install now, or undefined when no source offers it; only read when needed. */
  candidate?: string;
}

export interface AptState {
  packages: Record<string, PackageState>;
  /** Seconds since the package lists were last updated (Infinity if never, or not read: nothing to install). */
  cacheAge: number;
}

const DPKG_QUERY = sh`dpkg-query -W -f='pkg\\t\${Package}\\t\${Architecture}\\t\${db:Status-Abbrev}\\t\${Version}\\n'`;

/**
 * One dpkg-query for the packages of every apt task of a probe, kept in KANKA_DPKG: each task prints
 * it whole (its parser picks its own packages) and looks its own up with builtins.
 */
const dpkgPrelude: SharedPrelude = {
  id: 'dpkg',
  script: (names) => sh`KANKA_DPKG=$(${DPKG_QUERY} -- ${names} 2>/dev/null)`,
};

/**
 * Installed versions of `names`; candidates (apt-cache policy) only for packages that are not
 * installed, or for all when `candidates` is set (state: latest): policy is the slow part.
 * One dpkg-query for all the names, shared by every apt task of the probe (each run parses dpkg's
 * whole status file, so a call per package was most of a no-op probe's cost on the host); the
 * installed check runs on shell builtins.
 * The lists' age is only read when something may be installed: it only matters then.
 */
export function aptFact(names: readonly string[], candidates: boolean): Fact<AptState> {
  return {
    id: `apt:${candidates ? 'all' : 'missing'}:${names.join(',')}`,
    kind: 'apt-packages',
    params: { names: names.join(' '), candidates: candidates ? 'all' : 'missing' },
    shared: { prelude: dpkgPrelude, items: names },
    script: () =>
      lines([
        sh`if [ -n "\${KANKA_DPKG+set}" ]; then st=$KANKA_DPKG; else st=$(${DPKG_QUERY} -- ${names} 2>/dev/null); fi`,
        sh`printf '%s\\n' "$st"`,
        sh`ok=' '`,
        sh`while IFS='\t' read -r t n a s v; do case "$s" in ii*) ok="$ok$n $n:$a ";; esac; done <<KANKA_EOF`,
        sh`$st`,
        sh`KANKA_EOF`,
        sh`need=''`,
        candidates
          ? sh`need=${` ${names.join(' ')}`}`
          : sh`for p in ${names}; do case "$ok" in *" $p "*) ;; *) need="$need $p";; esac; done`,
        sh`if [ -n "$need" ]; then`,
        sh`  printf 'cache\\t%s\\t%s\\n' "$(stat -c %Y /var/cache/apt/pkgcache.bin 2>/dev/null || echo 0)" "$(date +%s)"`,
        sh`  echo policy`,
        // Package names are validated words; $need is split on purpose.
        // Without writing apt's cache: a probe must not change what it reads (apt-cache would make a
        // missing pkgcache.bin, and the next probe would see freshly updated lists).
        sh`  apt-cache -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= policy $need 2>/dev/null`,
        sh`fi`,
      ]),
    parse: (output) => parseAptState(output, names),
  };
}

/** Splits "nginx:amd64" into its package name and architecture (undefined when not qualified). */
function qualified(name: string): { base: string; arch?: string } {
  const colon = name.indexOf(':');
  return colon < 0 ? { base: name } : { base: name.slice(0, colon), arch: name.slice(colon + 1) };
}

export function parseAptState(output: string, names: readonly string[]): AptState {
  // dpkg-query lines: pkg <name> <arch> <status> <version>; a name may have a line per architecture.
  const rows: { base: string; arch: string; installed: boolean; version: string }[] = [];
  let cacheAge = Number.POSITIVE_INFINITY;
  const lines = output.split('\n');
  let i = 0;
  for (; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line === 'policy') break;
    const [tag, a = '', b = '', c = '', d = ''] = line.split('\t');
    if (tag === 'pkg') {
      rows.push({ base: a, arch: b, installed: c.startsWith('ii'), version: d });
    } else if (tag === 'cache') {
      const mtime = Number(a);
      cacheAge = mtime > 0 ? Math.max(0, Number(b) - mtime) : Number.POSITIVE_INFINITY;
    }
  }
  const packages: Record<string, PackageState> = {};
  for (const name of names) {
    const q = qualified(name);
    const row = rows.find(
      (r) => r.installed && r.base === q.base && (q.arch === undefined || r.arch === q.arch || r.arch === 'all'),
    );
    packages[name] = row ? { installed: row.version } : {};
  }
  // apt-cache policy: "haproxy:" or "nginx:amd64:" heads, then "  Candidate: <version>|(none)".
  let current: string[] = [];
  for (i++; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const head = /^(\S+):$/.exec(line);
    if (head?.[1]) {
      const full = head[1];
      const base = qualified(full).base;
      // apt may qualify a plain name ("nginx:amd64:"); an exact match wins over the plain name.
      current = names.includes(full) ? [full] : names.filter((n) => n === base);
      continue;
    }
    const cand = /^\s+Candidate:\s+(\S+)/.exec(line);
    if (cand?.[1] && cand[1] !== '(none)') {
      for (const n of current) packages[n] = { ...packages[n], candidate: cand[1] };
    }
  }
  return { packages, cacheAge };
}
