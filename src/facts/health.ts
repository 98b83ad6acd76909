import { lines, sh } from '../shell/command.js';
import { scriptFact, type Fact } from './fact.js';

/**
 * What the nightly health checks read. Each is a few milliseconds of the host's time and rides in
 * the same probe as everything else: no extra round trip.
 */

export interface MountUse {
  mount: string;
  usedPercent: number;
  inodesPercent?: number;
}

/** Space and inode use of every real filesystem (no tmpfs, devtmpfs, squashfs), in one `df`. */
export function diskUseFact(): Fact<MountUse[]> {
  return scriptFact(
    'disk-use',
    {},
    () => sh`df --output=target,pcent,ipcent -x tmpfs -x devtmpfs -x squashfs 2>/dev/null`,
    (out) =>
      out
        .split('\n')
        .slice(1)
        .flatMap((line) => {
          // The mount point may hold spaces: the two percentages are the last columns.
          const cols = line.trim().split(/\s+/);
          const inodes = cols.pop() ?? '';
          const space = cols.pop() ?? '';
          const mount = cols.join(' ');
          const used = Number(space.replace('%', ''));
          if (!mount || space === '-' || !Number.isFinite(used)) return [];
          const ipct = Number(inodes.replace('%', ''));
          return [
            { mount, usedPercent: used, ...(inodes !== '-' && Number.isFinite(ipct) ? { inodesPercent: ipct } : {}) },
          ];
        }),
  );
}

/** systemd units in the failed state. */
export function failedUnitsFact(): Fact<string[]> {
  return scriptFact(
    'failed-units',
    {},
    () => sh`systemctl list-units --state=failed --no-legend --plain 2>/dev/null`,
    (out) =>
      out
        .split('\n')
        .map((l) => l.trim().split(/\s+/)[0] ?? '')
        .filter(Boolean),
  );
}

/**
 * 'container' (the clock is its host's), 'yes', 'no' (systemd's NTPSynchronized). `waitSeconds`:
 * after apply, chrony may just have started: give it that long.
 */
export function timeSyncFact(waitSeconds = 0): Fact<'container' | 'yes' | 'no'> {
  return scriptFact(
    'time-sync',
    { wait: String(waitSeconds) },
    () =>
      lines([
        // systemd (PID 1) writes /run/systemd/container in a container: no process to ask.
        sh`i=0; while [ "$i" -lt ${waitSeconds} ] && [ ! -s /run/systemd/container ] && [ "$(timedatectl show -p NTPSynchronized --value 2>/dev/null)" != yes ]; do i=$((i+1)); sleep 1; done`,
        sh`if [ -s /run/systemd/container ]; then echo container; else timedatectl show -p NTPSynchronized --value 2>/dev/null || echo no; fi`,
      ]),
    (out) => {
      const v = out.trim();
      return v === 'container' || v === 'yes' ? v : 'no';
    },
  );
}

export type CertificateState =
  { present: false } | { present: true; notAfter: string; secondsLeft: number; subject: string };

/** The first certificate in a PEM file: its end date and how long until then (the host's clock). */
export function certificateFact(path: string): Fact<CertificateState> {
  return scriptFact(
    'certificate',
    { path },
    () =>
      sh`if [ -r ${path} ]; then date +%s; openssl x509 -noout -enddate -subject -dateopt iso_8601 -in ${path} 2>&1; else echo absent; fi`,
    (out) => {
      if (out.trim() === 'absent') return { present: false };
      const now = Number(out.split('\n')[0]);
      const end = /^notAfter=(.*)$/m.exec(out)?.[1]?.trim() ?? '';
      const endMs = Date.parse(end.replace(' ', 'T'));
      if (!Number.isFinite(now) || !Number.isFinite(endMs))
        throw new Error(`cannot read the certificate in ${path}: ${JSON.stringify(out.slice(0, 200))}`);
      return {
        present: true,
        notAfter: end,
        secondsLeft: Math.floor(endMs / 1000) - now,
        subject: (/^subject=\s*(.*)$/m.exec(out)?.[1] ?? '').trim(),
      };
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
  return scriptFact(
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

/**
 * varnish's backends and their probe health (`waitSeconds`: as for haproxy). `vcl`: the VCL whose
 * `backend <name> { # <host>` comments name the host behind each backend, for the report.
 */
export function varnishBackendsFact(waitSeconds = 0, vcl = ''): Fact<BackendState[] | { unavailable: string }> {
  return scriptFact(
    'varnish-backends',
    { wait: String(waitSeconds), vcl },
    () =>
      lines([
        sh`i=0; while [ "$i" -lt ${waitSeconds} ] && ! varnishadm -t 2 backend.list 2>/dev/null | awk 'NR>1 && ($2 == "sick" || ($2 != "healthy" && tolower($4) == "sick")) {bad=1} END {exit bad}'; do i=$((i+1)); sleep 1; done`,
        sh`varnishadm -t 2 backend.list 2>&1 || echo unavailable`,
        ...(vcl ? [sh`echo '--vcl'`, sh`grep -E '^backend [A-Za-z0-9_-]+ [{] # ' ${vcl} 2>/dev/null || true`] : []),
      ]),
    (out) => {
      const [list = '', names = ''] = out.split(/^--vcl$/m);
      if (/unavailable\s*$/.test(list))
        return { unavailable: list.replace(/unavailable\s*$/, '').trim() || 'no answer' };
      const hostOf = new Map([...names.matchAll(/^backend (\S+) [{] # (\S+)/gm)].map((m) => [m[1] ?? '', m[2] ?? '']));
      return list
        .split('\n')
        .slice(1)
        .map((l) => l.trim().split(/\s+/))
        .filter((c) => c.length >= 4 && c[0] !== '')
        .map(([name = '', admin = '', , health = '']) => {
          const host = hostOf.get(name.replace(/^[^.]*\./, ''));
          return {
            group: 'varnish',
            name: host ? `${host} (${name})` : name,
            state: `${admin} ${health}`,
            down: admin === 'sick' || (admin !== 'healthy' && health.toLowerCase() === 'sick'),
          };
        });
    },
  );
}
