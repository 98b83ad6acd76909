import { shq } from '../shell/quote.js';
import type { Fact } from './fact.js';

export interface PackageState {
  /** Installed version, or undefined when not (fully) installed. */
  installed?: string;
  /** Version apt would install now, or undefined when no source offers it; only read when needed. */
  candidate?: string;
}

export interface AptState {
  packages: Record<string, PackageState>;
  /** Seconds since the package lists were last updated (Infinity if never). */
  cacheAge: number;
}

/**
 * Installed versions of `names`; candidates (apt-cache policy) only for packages that are not
 * installed, or for all when `candidates` is set (state: latest): policy is the slow part.
 */
export function aptFact(names: readonly string[], candidates: boolean): Fact<AptState> {
  const list = names.map(shq).join(' ');
  return {
    id: `apt:${candidates ? 'all' : 'missing'}:${names.join(',')}`,
    kind: 'apt-packages',
    params: { names: names.join(' '), candidates: candidates ? 'all' : 'missing' },
    script: () =>
      [
        `need=''`,
        `for p in ${list}; do`,
        `  s=$(dpkg-query -W -f='\${db:Status-Abbrev}\\t\${Version}' -- "$p" 2>/dev/null) || s=''`,
        `  printf 'pkg\\t%s\\t%s\\n' "$p" "$s"`,
        candidates ? `  need="$need $p"` : `  case "$s" in ii*) ;; *) need="$need $p";; esac`,
        `done`,
        `printf 'cache\\t%s\\t%s\\n' "$(stat -c %Y /var/cache/apt/pkgcache.bin 2>/dev/null || echo 0)" "$(date +%s)"`,
        `echo policy`,
        // Package names are validated words; $need is split on purpose.
        `if [ -n "$need" ]; then apt-cache policy $need 2>/dev/null; fi`,
      ].join('\n'),
    parse: (output) => parseAptState(output),
  };
}

export function parseAptState(output: string): AptState {
  const packages: Record<string, PackageState> = {};
  let cacheAge = Number.POSITIVE_INFINITY;
  const lines = output.split('\n');
  let i = 0;
  for (; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line === 'policy') break;
    const [tag, a = '', b = '', c = ''] = line.split('\t');
    if (tag === 'pkg') {
      packages[a] = b.startsWith('ii') ? { installed: c } : {};
    } else if (tag === 'cache') {
      const mtime = Number(a);
      cacheAge = mtime > 0 ? Math.max(0, Number(b) - mtime) : Number.POSITIVE_INFINITY;
    }
  }
  let current: string | undefined;
  for (i++; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const head = /^(\S+):$/.exec(line);
    if (head?.[1]) {
      current = head[1].replace(/:\w+$/, '');
      continue;
    }
    const cand = /^\s+Candidate:\s+(\S+)/.exec(line);
    if (cand?.[1] && current && packages[current]) {
      if (cand[1] !== '(none)') packages[current] = { ...packages[current], candidate: cand[1] };
    }
  }
  return { packages, cacheAge };
}
