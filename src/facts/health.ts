import { lines, sh } from '../shell/command.js';
import type { Fact } from './fact.js';

/**
 * What the nightly health checks read. Each is a few milliseconds of the host's time and rides in
 * the same probe as everything else: no extra round trip.
 */

function fact<T>(kind: string, params: Record<string, string>, script: Fact<T>['script'], parse: (out: string) => T): Fact<T> {
  return { id: `${kind}:${JSON.stringify(params)}`, kind, params, script, parse };
}

export interface MountUse {
  mount: string;
  usedPercent: number;
  inodesPercent?: number;
}

/** Space and inode use of every real filesystem (no tmpfs, devtmpfs, squashfs). */
export function diskUseFact(): Fact<MountUse[]> {
  return fact(
    'disk-use',
    {},
    () =>
      lines([
        sh`df -P -x tmpfs -x devtmpfs -x squashfs 2>/dev/null | awk 'NR>1 {print "space\\t" $6 "\\t" $5}'`,
        sh`df -Pi -x tmpfs -x devtmpfs -x squashfs 2>/dev/null | awk 'NR>1 {print "inodes\\t" $6 "\\t" $5}'`,
      ]),
    (out) => {
      const byMount = new Map<string, MountUse>();
      for (const line of out.split('\n')) {
        const [what, mount = '', pct = ''] = line.split('\t');
        const n = Number(pct.replace('%', ''));
        if (!mount || !Number.isFinite(n) || pct === '-') continue;
        const entry = byMount.get(mount) ?? { mount, usedPercent: 0 };
        if (what === 'space') entry.usedPercent = n;
        else if (what === 'inodes') entry.inodesPercent = n;
        byMount.set(mount, entry);
      }
      return [...byMount.values()];
    },
  );
}

/** systemd units in the failed state. */
export function failedUnitsFact(): Fact<string[]> {
  return fact('failed-units', {}, () => sh`systemctl list-units --state=failed --no-legend --plain 2>/dev/null | awk '{print $1}'`, (out) =>
    out
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean),
  );
}

/**
 * 'container' (the clock is its host's), 'yes', 'no' (systemd's NTPSynchronized). `waitSeconds`:
 * after apply, chrony may just have started: give it that long.
 */
export function timeSyncFact(waitSeconds = 0): Fact<'container' | 'yes' | 'no'> {
  return fact(
    'time-sync',
    { wait: String(waitSeconds) },
    () =>
      lines([
        sh`i=0; while [ "$i" -lt ${waitSeconds} ] && ! systemd-detect-virt --container --quiet 2>/dev/null && [ "$(timedatectl show -p NTPSynchronized --value 2>/dev/null)" != yes ]; do i=$((i+1)); sleep 1; done`,
        sh`if systemd-detect-virt --container --quiet 2>/dev/null; then echo container; else timedatectl show -p NTPSynchronized --value 2>/dev/null || echo no; fi`,
      ]),
    (out) => {
      const v = out.trim();
      return v === 'container' || v === 'yes' ? v : 'no';
    },
  );
}

export type CertificateState = { present: false } | { present: true; notAfter: string; secondsLeft: number; subject: string };

/** The first certificate in a PEM file: its end date and how long until then (the host's clock). */
export function certificateFact(path: string): Fact<CertificateState> {
  return fact(
    'certificate',
    { path },
    () => sh`if [ -r ${path} ]; then end=$(openssl x509 -noout -enddate -in ${path} 2>/dev/null | sed 's/^notAfter=//'); echo "end $end"; echo "left $(( $(date -d "$end" +%s) - $(date +%s) ))"; openssl x509 -noout -subject -in ${path} 2>/dev/null; else echo absent; fi`,
    (out) => {
      if (out.trim() === 'absent') return { present: false };
      const end = /^end (.*)$/m.exec(out)?.[1] ?? '';
      const left = Number(/^left (-?\d+)$/m.exec(out)?.[1]);
      if (!end || !Number.isFinite(left)) throw new Error(`cannot read the certificate in ${path}: ${JSON.stringify(out.slice(0, 200))}`);
      return { present: true, notAfter: end, secondsLeft: left, subject: (/^subject=\s*(.*)$/m.exec(out)?.[1] ?? '').trim() };
    },
  );
}

export interface BackendState {
  group: string;
  name: string;
  /** UP, DOWN, MAINT, healthy, sick... as the proxy says it. */
  state: string;
  down: boolean;
}

/**
 * haproxy's servers from its local stats page (CSV): those a health check marks down.
 * `waitSeconds`: after apply, servers just (re)started need a few checks to come up.
 */
export function haproxyBackendsFact(url: string, waitSeconds = 0): Fact<BackendState[] | { unavailable: string }> {
  return fact(
    'haproxy-backends',
    { url, wait: String(waitSeconds) },
    () =>
      lines([
        sh`i=0; while [ "$i" -lt ${waitSeconds} ] && ! curl -fsS -m 2 ${url} 2>/dev/null | awk -F, '$2 != "FRONTEND" && $2 != "BACKEND" && $18 ~ /^DOWN/ {bad=1} END {exit bad}'; do i=$((i+1)); sleep 1; done`,
        sh`curl -fsS -m 2 ${url} 2>&1 || echo "unavailable"`,
      ]),
    (out) => {
      if (/unavailable\s*$/.test(out)) return { unavailable: out.replace(/unavailable\s*$/, '').trim() || 'no answer' };
      const rows = out.split('\n').filter((l) => l && !l.startsWith('#'));
      return rows.flatMap((r) => {
        const c = r.split(',');
        const [group = '', name = ''] = c;
        const state = c[17] ?? '';
        if (name === 'FRONTEND' || name === 'BACKEND' || !state) return [];
        // Only what a check says: MAINT/DRAIN are a person's decision, "no check" is not known.
        return [{ group, name, state, down: /^DOWN/.test(state) }];
      });
    },
  );
}

/** varnish's backends and their probe health (`waitSeconds`: as for haproxy). */
export function varnishBackendsFact(waitSeconds = 0): Fact<BackendState[] | { unavailable: string }> {
  return fact(
    'varnish-backends',
    { wait: String(waitSeconds) },
    () =>
      lines([
        sh`i=0; while [ "$i" -lt ${waitSeconds} ] && ! varnishadm -t 2 backend.list 2>/dev/null | awk 'NR>1 && ($2 == "sick" || ($2 != "healthy" && tolower($4) == "sick")) {bad=1} END {exit bad}'; do i=$((i+1)); sleep 1; done`,
        sh`varnishadm -t 2 backend.list 2>&1 || echo unavailable`,
      ]),
    (out) => {
      if (/unavailable\s*$/.test(out)) return { unavailable: out.replace(/unavailable\s*$/, '').trim() || 'no answer' };
      return out
        .split('\n')
        .slice(1)
        .map((l) => l.trim().split(/\s+/))
        .filter((c) => c.length >= 4 && c[0] !== '')
        .map(([name = '', admin = '', , health = '']) => ({ group: 'varnish', name, state: `${admin} ${health}`, down: admin === 'sick' || (admin !== 'healthy' && health.toLowerCase() === 'sick') }));
    },
  );
}
