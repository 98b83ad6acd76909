import type { ChalkInstance } from 'chalk';
import type { CommandHostReport, CommandReport } from '../engine/adhoc.js';

/**
 * `run`'s report for people: each host's output under its own heading, in inventory order (hosts
 * finish in any order; the grouping keeps one host's lines together), then a count.
 */
export function renderCommandReport(report: CommandReport, style: ChalkInstance): string {
  const blocks = report.hosts.map((h) => hostBlock(h, style));
  const count = (status: CommandHostReport['status']) => report.hosts.filter((h) => h.status === status).length;
  const summary =
    `${report.hosts.length} host${report.hosts.length === 1 ? '' : 's'}: ${count('ok')} ok, ` +
    `${count('failed')} failed, ${count('unreachable')} unreachable (${(report.durationMs / 1000).toFixed(1)} s)`;
  return `${blocks.join('\n')}\n${summary}`;
}

function hostBlock(h: CommandHostReport, style: ChalkInstance): string {
  const heading =
    h.status === 'ok'
      ? style.green(`${h.host} | ok | exit 0`)
      : h.status === 'unreachable'
        ? style.red(`${h.host} | UNREACHABLE`)
        : style.red(`${h.host} | FAILED${h.exitCode === undefined ? '' : ` | exit ${h.exitCode}`}`);
  const lines = [heading];
  if (h.error) lines.push(indent(h.error));
  if (h.stdout) lines.push(indent(h.stdout));
  if (h.stderr) lines.push(style.dim('  stderr:'), indent(h.stderr));
  if (h.logError) lines.push(style.yellow(indent(`warning: ${h.logError}`)));
  return `${lines.join('\n')}\n`;
}

function indent(text: string): string {
  return text
    .replace(/\n$/, '')
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}

/** `run --json`: the whole report and its exit code. */
export function renderCommandJson(report: CommandReport, exitCode: number, version: string): string {
  const doc = {
    version,
    command: 'run',
    env: report.env,
    run: report.command,
    hosts: report.hosts,
    summary: {
      hosts: report.hosts.length,
      ok: report.hosts.filter((h) => h.status === 'ok').map((h) => h.host),
      failed: report.hosts.filter((h) => h.status === 'failed').map((h) => h.host),
      unreachable: report.hosts.filter((h) => h.status === 'unreachable').map((h) => h.host),
    },
    durationMs: report.durationMs,
    exitCode,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
