import type { Fact } from './fact.js';

/** Whether a guard command (e.g. a task's `unless`) exits 0 on the host. Its output is discarded. */
export function commandSucceedsFact(command: string): Fact<boolean> {
  return {
    id: `command-status:${command}`,
    kind: 'command-status',
    params: { command },
    // The guard runs in a subshell so an `exit` in it cannot end the probe script.
    script: () => `if ( ${command} ) >/dev/null 2>&1 </dev/null; then echo yes; else echo no; fi`,
    parse: (output) => {
      const v = output.trim();
      if (v !== 'yes' && v !== 'no') throw new Error(`unexpected guard output: ${JSON.stringify(v)}`);
      return v === 'yes';
    },
  };
}
