import { sh, type ShellCommand } from '../shell/command.js';
import type { Fact } from './fact.js';

/** Whether a guard command (e.g. a task's `unless`) exits 0 on the host. Its output is discarded. */
export function commandSucceedsFact(command: ShellCommand): Fact<boolean> {
  return {
    id: `command-status:${command.text}`,
    kind: 'command-status',
    params: { command: command.text },
    // The guard runs in a subshell so an `exit` in it cannot end the probe script; the newline
    // before ")" keeps a trailing comment in the guard from swallowing it.
    script: () => sh`if ( ${command}\n) >/dev/null 2>&1 </dev/null; then echo yes; else echo no; fi`,
    parse: (output) => {
      const v = output.trim();
      if (v !== 'yes' && v !== 'no') throw new Error(`unexpected guard output: ${JSON.stringify(v)}`);
      return v === 'yes';
    },
  };
}
