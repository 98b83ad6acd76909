import type { RunReport } from '../engine/report.js';
import { countTasks, problemsOf } from '../engine/report.js';
import { hostTroubled, taskHasWork } from '../engine/status.js';

/**
 * A short summary for a chat webhook: Slack reads `text`, Discord reads `content`, so the body
 * carries both. Secrets are masked by the caller's redactor before anything leaves the process.
 */
export function webhookBody(report: RunReport, exitCode: number): { text: string; content: string } {
  const drifted = report.hosts.filter((h) => h.tasks.some(taskHasWork));
  const broken = report.hosts.filter(hostTroubled);
  const problems = problemsOf(report);
  const verdict =
    exitCode === 0
      ? 'no drift'
      : exitCode === 2
        ? drifted.length > 0
          ? 'drift found'
          : 'problems found'
        : 'some hosts could not be checked';
  const lines = [`kanka-infra drift ${report.env}: ${verdict}`];
  // Problems first: they need a person, drift can wait for the next apply.
  for (const p of problems) lines.push(`- ${p.host}: PROBLEM: ${p.message.split('\n')[0]} (to fix: ${p.fix})`);
  for (const h of drifted) {
    // A task waiting for others (a health check failing while another host drifted) says why.
    const items = h.tasks
      .filter(taskHasWork)
      .flatMap((t) =>
        t.changes.length
          ? t.changes.map((c) => `${c.action} ${c.subject}`)
          : [t.reason ? `${t.name} (${t.reason.split('\n')[0]})` : t.name],
      );
    lines.push(
      `- ${h.host}: ${items.length} drifted item(s): ${items.slice(0, 5).join('; ')}${items.length > 5 ? '; ...' : ''}`,
    );
  }
  for (const h of broken) lines.push(`- ${h.host}: ${h.status}: ${(h.error ?? 'not checked').split('\n')[0]}`);
  const ok = report.hosts.filter(
    (h) => !drifted.includes(h) && !broken.includes(h) && !problems.some((p) => p.host === h.host),
  ).length;
  lines.push(
    `${ok} of ${report.hosts.length} host(s) as configured; ${report.hosts.reduce((n, h) => n + countTasks(h).ok, 0)} tasks checked.`,
  );
  const text = lines.join('\n').slice(0, 1900);
  return { text, content: text };
}

/** Posts the body; resolves to an error message (never throws) so drift still exits with its code. */
export async function postWebhook(url: string, body: unknown, timeoutMs = 10000): Promise<string | undefined> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) return `webhook answered HTTP ${res.status}`;
    return undefined;
  } catch (err) {
    const e = err as Error;
    return e.name === 'TimeoutError'
      ? `webhook did not answer within ${timeoutMs / 1000} s`
      : `webhook post failed: ${errorCode(e) ?? e.message}`;
  }
}

/** fetch hides the reason (ECONNREFUSED, ENOTFOUND...) in its cause chain. */
function errorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const x = e as { code?: unknown; cause?: unknown; errors?: unknown[] };
    if (typeof x.code === 'string') return x.code;
    const next = x.cause ?? x.errors?.[0];
    if (!next && depth > 0) return (e as Error).message;
    e = next;
  }
  return undefined;
}
