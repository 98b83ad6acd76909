import { z } from 'zod';
import {
  certificateFact,
  diskUseFact,
  failedUnitsFact,
  haproxyBackendsFact,
  timeSyncFact,
  varnishBackendsFact,
  type BackendState,
} from '../facts/health.js';
import type { Fact } from '../facts/fact.js';
import type { FactReader } from '../facts/fact.js';
import { noop, problem, type PlanResult } from './change.js';
import { absolutePath } from './common.js';
import { defineModule, type TaskContext } from './module.js';

const percent = z.number().min(1).max(100);

const args = z
  .discriminatedUnion('check', [
    z.strictObject({
      check: z.literal('disk'),
      max_percent: percent.default(90).describe('space used on any filesystem above this is a problem'),
      max_inodes_percent: percent.default(90).describe('inodes used above this is a problem'),
    }),
    z.strictObject({
      check: z.literal('failed_units'),
      ignore: z.array(z.string().min(1)).default([]).describe('units whose failure is expected here'),
    }),
    z.strictObject({ check: z.literal('time_sync') }),
    z.strictObject({
      check: z.literal('certificate'),
      path: absolutePath.describe('PEM file whose first certificate is served'),
      min_days: z.number().int().positive().default(14).describe('fewer days left than this is a problem'),
      missing_ok: z
        .boolean()
        .default(false)
        .describe(
          'no file yet is fine (a certificate ACME has not issued yet: its failing renewal unit is the problem then)',
        ),
    }),
    z.strictObject({
      check: z.literal('haproxy_backends'),
      url: z
        .string()
        .regex(
          /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)(:\d+)?\//,
          'a stats URL on this host, e.g. http://127.0.0.1:8404/stats;csv',
        ),
    }),
    z.strictObject({
      check: z.literal('varnish_backends'),
      vcl: absolutePath
        .optional()
        .describe('the VCL whose `backend <name> { # <host>` comments name the hosts in reports'),
    }),
  ])
  .describe(
    'a health check for the nightly drift: what it finds wrong is a problem (exit 2) with what to do; it changes nothing and never fails the run',
  );

type HealthArgs = z.infer<typeof args>;

/** In apply (at its turn) what just (re)started gets this long to come up; plan and drift look once. */
const SETTLE_SECONDS = 20;

function factOf(a: HealthArgs, ctx: TaskContext): Fact<unknown> {
  const wait = ctx.planning === false ? SETTLE_SECONDS : 0;
  switch (a.check) {
    case 'disk':
      return diskUseFact();
    case 'failed_units':
      return failedUnitsFact();
    case 'time_sync':
      return timeSyncFact(wait);
    case 'certificate':
      return certificateFact(a.path);
    case 'haproxy_backends':
      return haproxyBackendsFact(a.url, wait);
    case 'varnish_backends':
      return varnishBackendsFact(wait, a.vcl ?? '');
  }
}

function backends(kind: string, got: BackendState[] | { unavailable: string }, fix: string): PlanResult {
  if ('unavailable' in got)
    return problem(
      `${kind} did not answer for its backends' state: ${got.unavailable}`,
      `is ${kind} running? systemctl status ${kind}`,
    );
  const down = got.filter((b) => b.down);
  if (down.length > 0)
    return problem(
      `${kind} marks ${down.length} backend${down.length > 1 ? 's' : ''} down: ${down.map((b) => (kind === 'varnish' ? `${b.name}: ${b.state}` : `${b.group}/${b.name} (${b.state})`)).join(', ')}`,
      fix,
    );
  return noop(`${kind}: ${got.length} backend(s) up`);
}

/** Plans one health check over what the probe read. Exported for the unit tests. */
export function planHealth(a: HealthArgs, facts: FactReader, ctx: TaskContext): PlanResult {
  const wait = ctx.planning === false ? SETTLE_SECONDS : 0;
  switch (a.check) {
    case 'disk': {
      const full = facts
        .get(diskUseFact())
        .flatMap((m) => [
          ...(m.usedPercent > a.max_percent ? [`${m.mount} is ${m.usedPercent}% full (limit ${a.max_percent}%)`] : []),
          ...(m.inodesPercent !== undefined && m.inodesPercent > a.max_inodes_percent
            ? [`${m.mount} uses ${m.inodesPercent}% of its inodes (limit ${a.max_inodes_percent}%)`]
            : []),
        ]);
      return full.length > 0
        ? problem(
            full.join('; '),
            `free space on ${ctx.host} (du -xh --max-depth=2 <mount> | sort -h | tail), or grow the disk`,
          )
        : noop('disk space and inodes below the limits');
    }
    case 'failed_units': {
      const failed = facts.get(failedUnitsFact()).filter((u) => !a.ignore.includes(u));
      return failed.length > 0
        ? problem(
            `failed systemd unit${failed.length > 1 ? 's' : ''}: ${failed.join(', ')}`,
            `see why: journalctl -u ${failed[0] ?? ''} on ${ctx.host}; once fixed: systemctl reset-failed`,
          )
        : noop('no failed systemd unit');
    }
    case 'time_sync': {
      const t = facts.get(timeSyncFact(wait));
      if (t === 'container') return noop("a container: its clock is its host's");
      return t === 'yes'
        ? noop('clock synchronised (NTP)')
        : problem(
            'the clock is not synchronised (timedatectl: NTPSynchronized=no)',
            `check chrony on ${ctx.host}: chronyc tracking; chronyc sources`,
          );
    }
    case 'certificate': {
      const c = facts.get(certificateFact(a.path));
      if (!c.present)
        return a.missing_ok
          ? noop(`no certificate at ${a.path} yet`)
          : problem(
              `no certificate at ${a.path}`,
              'apply the site (it installs the certificate), then check the TLS settings',
            );
      const days = Math.floor(c.secondsLeft / 86400);
      if (c.secondsLeft < a.min_days * 86400) {
        return problem(
          `the certificate in ${a.path} (${c.subject}) ${c.secondsLeft <= 0 ? 'has expired' : `expires in ${days} day${days === 1 ? '' : 's'}`} (${c.notAfter}; limit ${a.min_days} days)`,
          "renew it: with ACME, see the renewal timer's log; else put a new certificate in the vault and apply",
        );
      }
      return noop(`certificate valid for ${days} more days (${c.notAfter})`);
    }
    case 'haproxy_backends':
      return backends(
        'haproxy',
        facts.get(haproxyBackendsFact(a.url, wait)),
        `check the backend (its health check: haproxy's log, journalctl -u haproxy on ${ctx.host})`,
      );
    case 'varnish_backends':
      return backends(
        'varnish',
        facts.get(varnishBackendsFact(wait, a.vcl ?? '')),
        'check that backend: its /healthz says which part fails (curl http://<backend>/healthz)',
      );
  }
}

export const healthModule = defineModule<HealthArgs>({
  name: 'health',
  description:
    'A health check for the nightly drift (disk, failed units, clock, certificate expiry, haproxy and varnish backends). What it finds is a problem: reported with what to do, drift exits 2. It changes nothing and is read in the same probe as everything else.',
  args,
  // Read at its turn in apply: after the changes and handlers before it, with time to settle.
  atItsTurn: true,
  facts: (a, ctx) => [factOf(a, ctx)],
  plan: (a, facts, ctx) => planHealth(a, facts, ctx),
});
