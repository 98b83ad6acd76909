import { randomBytes } from 'node:crypto';
import { sharedPreludes, type Fact } from '../facts/fact.js';
import { lines, sh } from '../shell/command.js';
import { RemoteError, type FactOutcome } from './host.js';
import type { Transport } from './transport.js';
import { runScript, sudoProblem } from './run-script.js';

/**
 * Reads many facts in ONE round trip: the facts' shared preludes run once, then every snippet
 * runs in its own subshell, its output framed by markers carrying a random nonce (so file content
 * cannot fake a marker).
 */
export async function probeFacts(
  transport: Transport,
  facts: readonly Fact<unknown>[],
  sudo: boolean,
  record?: (script: string) => void,
): Promise<Map<string, FactOutcome>> {
  const unique = [...new Map(facts.map((f) => [f.id, f])).values()];
  const results = new Map<string, FactOutcome>();
  if (unique.length === 0) return results;
  const nonce = randomBytes(8).toString('hex');
  // The marker is printf's format: the nonce and index are hex and digits, quoted all the same.
  const script = lines([
    // Shared reads first (their output, if any, lands in the preamble before the first marker).
    ...sharedPreludes(unique).map((p) => sh`{ ${p}\n} >/dev/null 2>&1 </dev/null`),
    ...unique.map((f, i) => sh`printf ${`\\n@@KANKA:${nonce}:${i}\\n`}\n( ${f.script()}\n)`),
    sh`printf ${`\\n@@KANKA:${nonce}:end\\n`}`,
  ]);
  record?.(script.text);
  const r = await runScript(transport, script, sudo);
  const problem = sudoProblem(r);
  if (problem) throw new RemoteError(problem, r.code, r.stderr);
  const sections = r.stdout.split(new RegExp(`\\n@@KANKA:${nonce}:(\\d+|end)\\n`));
  // sections: [preamble, id0, body0, id1, body1, ..., 'end', trailer]
  const bodies = new Map<string, string>();
  for (let i = 1; i + 1 < sections.length; i += 2) bodies.set(sections[i] ?? '', sections[i + 1] ?? '');
  if (!bodies.has('end')) {
    throw new RemoteError(
      `the probe script did not finish (exit ${r.code}): ${r.stderr.trim() || 'no error output'}`,
      r.code,
      r.stderr,
    );
  }
  unique.forEach((f, i) => {
    const body = bodies.get(String(i));
    if (body === undefined) {
      results.set(f.id, { ok: false, error: `no output for ${f.kind} probe` });
      return;
    }
    try {
      results.set(f.id, { ok: true, value: f.parse(body) });
    } catch (err) {
      const stderr = r.stderr.trim();
      results.set(f.id, {
        ok: false,
        error: `${(err as Error).message}${stderr ? ` (host said: ${stderr.split('\n').slice(0, 3).join(' | ')})` : ''}`,
      });
    }
  });
  return results;
}
