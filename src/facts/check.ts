import { lines, sh, type ShellCommand } from '../shell/command.js';
import type { Fact } from './fact.js';

export interface CheckResult {
  passed: boolean;
  tries: number;
  /** Last lines of the check's output when it failed. */
  output: string;
}

/** Runs a check command until it passes (at most `tries` times, `delay` seconds apart). */
export function checkFact(command: ShellCommand, tries: number, delay: number): Fact<CheckResult> {
  return {
    id: `check:${tries}:${delay}:${command.text}`,
    kind: 'check',
    params: { command: command.text, tries: String(tries), delay: String(delay) },
    script: () =>
      lines([
        sh`i=0; while :; do i=$((i+1))`,
        // The check runs in a subshell: it cannot end the probe; its output is kept for the message.
        // The newline before ")" keeps a trailing comment in the check from swallowing it.
        sh`  if out=$( ( ${command}\n) 2>&1 </dev/null ); then printf 'passed %s\\n' "$i"; break; fi`,
        sh`  if [ "$i" -ge ${tries} ]; then printf 'failed %s\\n' "$i"; printf '%s\\n' "$out" | tail -n 5; break; fi`,
        sh`  sleep ${delay}`,
        sh`done`,
      ]),
    parse: (output) => {
      const [first = '', ...rest] = output.split('\n');
      const m = /^(passed|failed) (\d+)$/.exec(first.trim());
      if (!m) throw new Error(`unexpected check output: ${JSON.stringify(output.slice(0, 200))}`);
      return { passed: m[1] === 'passed', tries: Number(m[2]), output: rest.join('\n').trim() };
    },
  };
}
