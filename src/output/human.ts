import type { ChalkInstance } from 'chalk';
import type { HostReport, RunReport, TaskReport } from '../engine/report.js';
import type { ChangeView } from '../engine/report.js';
import { countTasks, problemsOf } from '../engine/report.js';
import { changeCounts, totalChanges, troubledHosts } from './summary.js';
import { hostTroubled } from '../engine/status.js';

const GLYPH: Record<ChangeView['action'], string> = { create: '+', update: '~', delete: '-', run: '>' };

export interface HumanOptions {
  style: ChalkInstance;
  verbose: boolean;
}

function glyphStyle(s: ChalkInstance, action: ChangeView['action']): (t: string) => string {
  return action === 'create' ? s.green : action === 'delete' ? s.red : action === 'run' ? s.magenta : s.yellow;
}

function indent(text: string, by: string): string {
  return text
    .split('\n')
    .map((l) => by + l)
    .join('\n');
}

function colourDiff(diff: string, s: ChalkInstance): string {
  return diff
    .split('\n')
    .map((l) =>
      l.startsWith('+++') || l.startsWith('---')
        ? s.bold(l)
        : l.startsWith('+')
          ? s.green(l)
          : l.startsWith('-')
            ? s.red(l)
            : l.startsWith('@@')
              ? s.cyan(l)
              : l,
    )
    .join('\n');
}

function renderTask(t: TaskReport, o: HumanOptions): string[] {
  const s = o.style;
  const took = o.verbose && t.durationMs !== undefined ? ` (${(t.durationMs / 1000).toFixed(1)} s)` : '';
  const label = s.dim(`[${t.role}${t.handler ? ' handler' : ''}] ${t.name}${took}`);
  const lines: string[] = [];
  if (t.status === 'failed') {
    lines.push(`  ${s.red('x')} ${s.red('failed')} ${label}`);
    lines.push(indent(s.red(t.error ?? 'failed'), '      '));
    if (o.verbose) lines.push(s.dim(`      at ${t.source}`));
    return lines;
  }
  if (t.status === 'deferred') {
    lines.push(`  ${s.cyan('?')} ${s.cyan('after earlier changes')} ${label}`);
    lines.push(s.dim(`      ${t.reason ?? ''}`));
    return lines;
  }
  // Problems are listed together in the Health section, after the changes.
  if (t.status === 'problem') return lines;
  if (t.status === 'skipped') {
    lines.push(s.dim(`  - not run  [${t.role}${t.handler ? ' handler' : ''}] ${t.name}`));
    return lines;
  }
  if (t.status === 'ok') {
    if (o.verbose) lines.push(s.dim(`  = ${t.reason ?? 'ok'}  [${t.role}] ${t.name}`));
    return lines;
  }
  for (const c of t.changes) {
    const g = glyphStyle(s, c.action);
    const details = c.details.length > 0 ? `  ${c.details.join(', ')}` : '';
    lines.push(`  ${g(GLYPH[c.action])} ${g(c.action.padEnd(6))} ${c.subject}${details}  ${label}`);
    if (c.diff) lines.push(indent(colourDiff(c.diff, s), '      '));
  }
  return lines;
}

/** One host's block: its changes and problems. Quiet when nothing happens (unless verbose). */
export function renderHost(h: HostReport, o: HumanOptions): string[] {
  const s = o.style;
  const head = `${s.bold(h.host)} ${s.dim(`(${h.address})`)}`;
  if (h.status === 'unreachable' || (h.status === 'failed' && h.tasks.length === 0) || h.status === 'skipped') {
    return [`${head}  ${s.red(h.status.toUpperCase())}`, indent(s.red(h.error ?? ''), '  ')];
  }
  const body = h.tasks.flatMap((t) => renderTask(t, o));
  if (h.status === 'failed' && h.error && !h.tasks.some((t) => t.status === 'failed'))
    body.push(indent(s.red(h.error), '  '));
  if (body.length === 0) return o.verbose ? [`${head}  ${s.green('no changes')}`] : [];
  return [head, ...body];
}

export function renderRecap(report: RunReport, o: HumanOptions): string[] {
  const s = o.style;
  const width = Math.max(4, ...report.hosts.map((h) => h.host.length));
  const changedLabel = report.command === 'apply' ? 'changed' : 'pending';
  const lines = [s.bold('Recap')];
  for (const h of report.hosts) {
    const n = countTasks(h);
    const changed = report.command === 'apply' ? n.changed : n.pending + n.deferred;
    const unreachable = h.status === 'unreachable' ? 1 : 0;
    const status = hostTroubled(h) ? s.red(h.status) : changed > 0 ? s.yellow(h.status) : s.green(h.status);
    const extra = o.verbose ? s.dim(`  ${h.roundTrips} round trips, ${(h.durationMs / 1000).toFixed(2)} s`) : '';
    const problems = n.problem > 0 ? `  ${s.red(`problems=${n.problem}`)}` : '';
    lines.push(
      `  ${h.host.padEnd(width)}  ok=${n.ok}  ${changedLabel}=${changed}  failed=${n.failed}  unreachable=${unreachable}  ${status}${problems}${extra}`,
    );
  }
  return lines;
}

/** The last line: what the run means, in one sentence. */
export function renderSummary(report: RunReport, o: HumanOptions): string {
  const s = o.style;
  const statuses = report.command === 'apply' ? ['changed'] : ['pending'];
  const counts = changeCounts(report.hosts, statuses);
  const total = totalChanges(counts);
  const deferred = report.hosts.reduce((n, h) => n + countTasks(h).deferred, 0);
  const bad = troubledHosts(report);
  const hostsWith = report.hosts.filter((h) => h.tasks.some((t) => statuses.includes(t.status))).length;
  const parts = `${counts.create} to create, ${counts.update} to update, ${counts.delete} to delete, ${counts.run} to run`;
  const time = s.dim(` (${(report.durationMs / 1000).toFixed(1)} s)`);
  const problems = problemsOf(report);
  const trouble =
    (bad.length > 0
      ? s.red(
          ` ${bad.length} host${bad.length > 1 ? 's' : ''} failed or unreachable: ${bad.map((h) => h.host).join(', ')}.`,
        )
      : '') +
    (problems.length > 0
      ? s.red(
          ` ${problems.length} problem${problems.length > 1 ? 's' : ''} need${problems.length > 1 ? '' : 's'} a person: ${problems.map((p) => `${p.host} (${p.task.name})`).join(', ')}.`,
        )
      : '');
  if (report.command === 'apply') {
    const done = `${counts.create} created, ${counts.update} updated, ${counts.delete} deleted, ${counts.run} run`;
    return `${total === 0 ? 'Applied: no changes.' : `Applied: ${done} on ${hostsWith} host${hostsWith > 1 ? 's' : ''}.`}${trouble}${time}`;
  }
  const word = report.command === 'drift' ? 'Drift' : 'Plan';
  if (total === 0 && deferred === 0)
    return `${word}: no changes on ${report.hosts.length - bad.length} host(s).${trouble}${time}`;
  const more = deferred > 0 ? `, and ${deferred} task(s) decided after earlier ones` : '';
  return `${word}: ${parts}${more} on ${hostsWith} host${hostsWith > 1 ? 's' : ''}.${trouble}${time}`;
}

/** What needs a person (a broken replica, a full disk, a certificate about to expire), with what to do. */
export function renderHealth(report: RunReport, o: HumanOptions): string[] {
  const s = o.style;
  const problems = problemsOf(report);
  if (problems.length === 0) return [];
  const width = Math.max(...problems.map((p) => p.host.length));
  return [
    s.bold(
      s.red(
        `Health: ${problems.length} problem${problems.length > 1 ? 's' : ''} need${problems.length > 1 ? '' : 's'} a person (nothing was changed for ${problems.length > 1 ? 'them' : 'it'})`,
      ),
    ),
    ...problems.flatMap((p) => [
      `  ${s.red('!')} ${p.host.padEnd(width)}  ${p.message}  ${s.dim(`[${p.task.role}] ${p.task.name}`)}`,
      `    ${' '.repeat(width)}  ${s.bold(`to fix: ${p.fix}`)}`,
    ]),
  ];
}

export function renderReport(report: RunReport, o: HumanOptions): string {
  const blocks = [...report.hosts.map((h) => renderHost(h, o)), renderHealth(report, o)].filter((b) => b.length > 0);
  return (
    [...blocks.map((b) => b.join('\n')), renderRecap(report, o).join('\n'), renderSummary(report, o)].join('\n\n') +
    '\n'
  );
}
