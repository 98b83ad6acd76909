import { lines, sh } from '../shell/command.js';
import type { Fact } from './fact.js';

/** Facts about the machine itself, available to templates and variables as `facts`. */
export interface HostFacts {
  hostname: string;
  cpus: number;
  memory_mb: number;
  os_id: string;
  os_version: string;
  os_codename: string;
  kernel: string;
  uid: number;
}

/**
 * Facts of no real host: templates are rendered with them before any host is contacted (so
 * `validate` finds an unknown variable), and test doubles start from them.
 */
export const STAND_IN_HOST_FACTS: Readonly<HostFacts> = {
  hostname: 'stand-in',
  cpus: 2,
  memory_mb: 2048,
  os_id: 'debian',
  os_version: '12',
  os_codename: 'bookworm',
  kernel: '6.1.0',
  uid: 0,
};

export const hostFactsFact: Fact<HostFacts> = {
  id: 'host-facts',
  kind: 'host-facts',
  params: {},
  // Shell builtins and /proc where they give the same answer: every exec costs the host about a
  // millisecond, and this runs on every host in every run.
  script: () =>
    lines([
      sh`if read -r h < /proc/sys/kernel/hostname 2>/dev/null; then :; else h=$(cat /etc/hostname); fi; printf 'hostname\\t%s\\n' "$h"`,
      sh`printf 'cpus\\t%s\\n' "$(nproc 2>/dev/null || echo 1)"`,
      sh`while read -r k v _; do if [ "$k" = MemTotal: ]; then printf 'memory_kb\\t%s\\n' "$v"; break; fi; done < /proc/meminfo`,
      sh`if [ -r /etc/os-release ]; then . /etc/os-release; printf 'os_id\\t%s\\nos_version\\t%s\\nos_codename\\t%s\\n' "$ID" "$VERSION_ID" "$VERSION_CODENAME"; fi`,
      sh`read -r k < /proc/sys/kernel/osrelease; printf 'kernel\\t%s\\n' "$k"`,
      sh`printf 'uid\\t%s\\n' "$(id -u)"`,
    ]),
  parse: (output) => {
    const map = new Map<string, string>();
    for (const line of output.split('\n')) {
      const tab = line.indexOf('\t');
      if (tab > 0) map.set(line.slice(0, tab), line.slice(tab + 1).trim());
    }
    const num = (k: string, fallback: number) => {
      const n = Number(map.get(k));
      return Number.isFinite(n) && map.has(k) ? n : fallback;
    };
    return {
      hostname: map.get('hostname') ?? '',
      cpus: num('cpus', 1),
      memory_mb: Math.floor(num('memory_kb', 0) / 1024),
      os_id: map.get('os_id') ?? 'unknown',
      os_version: map.get('os_version') ?? '',
      os_codename: map.get('os_codename') ?? '',
      kernel: map.get('kernel') ?? '',
      uid: num('uid', -1),
    };
  },
};
