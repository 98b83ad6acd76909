import { problemsOf, type RunReport } from '../engine/report.js';
import { changeCounts } from './summary.js';

/**
 * The --json document: kanka-infra's version (package.json's), the whole report, a summary, and the
 * exit code it leads to.
 */
export function renderJson(
  report: RunReport,
  exitCode: number,
  version: string,
  extra: Record<string, unknown> = {},
): string {
  const statuses = report.command === 'apply' ? ['changed'] : ['pending'];
  const doc = {
    version,
    ...report,
    summary: {
      changes: changeCounts(report.hosts, statuses),
      hosts: report.hosts.length,
      failed: report.hosts.filter((h) => h.status === 'failed').map((h) => h.host),
      unreachable: report.hosts.filter((h) => h.status === 'unreachable').map((h) => h.host),
      problems: problemsOf(report).map((p) => ({ host: p.host, task: p.task.name, message: p.message, fix: p.fix })),
      maxRoundTrips: Math.max(0, ...report.hosts.map((h) => h.roundTrips)),
    },
    exitCode,
    ...extra,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
