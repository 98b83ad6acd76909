import type { Fact } from '../facts/fact.js';
import type { Op } from '../modules/ops.js';
import type { ShellCommand } from '../shell/command.js';
import { RemoteError, type CommandOutput, type FactOutcome, type RemoteHost } from './host.js';
import { LOCK_HELD_EXIT, opsToScript, VALIDATION_FAILED_EXIT } from './ops-to-shell.js';
import { probeFacts } from './probe-script.js';
import { runCommandLine, runScript, sudoProblem } from './run-script.js';
import type { Transport } from './transport.js';

/** The real host: facts and ops compiled to POSIX sh, run over one SSH connection. */
export class ShellHost implements RemoteHost {
  constructor(
    private readonly transport: Transport,
    private readonly sudo: boolean,
    /** Benchmarks only: keeps every probe script sent (bench/ measures a plain ssh doing the same reads). */
    private readonly recordProbe?: (script: string) => void,
  ) {}

  get roundTrips(): number {
    return this.transport.roundTrips;
  }

  probe(facts: readonly Fact<unknown>[]): Promise<Map<string, FactOutcome>> {
    return probeFacts(this.transport, facts, this.sudo, this.recordProbe);
  }

  async apply(ops: readonly Op[]): Promise<void> {
    const r = await runScript(this.transport, opsToScript(ops), this.sudo);
    if (r.code === 0) return;
    const problem = sudoProblem(r);
    if (problem) throw new RemoteError(problem, r.code, r.stderr);
    const output = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-20).join('\n');
    if (r.code === LOCK_HELD_EXIT) throw new RemoteError(output, r.code, output);
    if (r.code === VALIDATION_FAILED_EXIT)
      throw new RemoteError(`validation failed, the file was not installed:\n${output}`, r.code, output);
    throw new RemoteError(`command failed with exit code ${r.code}${output ? `:\n${output}` : ''}`, r.code, output);
  }

  async runCommand(command: ShellCommand): Promise<CommandOutput> {
    const r = await runCommandLine(this.transport, command, this.sudo);
    // sudo refusing to run it is the connection's set-up failing, not the command's answer.
    const problem = this.sudo && r.code !== 0 ? sudoProblem(r) : undefined;
    if (problem) throw new RemoteError(problem, r.code, r.stderr);
    return r;
  }

  close(): void {
    this.transport.close();
  }
}
