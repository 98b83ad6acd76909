import type { Fact } from '../../../src/facts/fact.js';
import { STAND_IN_HOST_FACTS, type HostFacts } from '../../../src/facts/host-facts.js';
import type { Op } from '../../../src/modules/ops.js';
import { MYSQL } from '../../../src/facts/mysql.js';
import { FakeMysql } from './mysql.js';
import type { ShellCommand } from '../../../src/shell/command.js';
import { RemoteError, type CommandOutput, type FactOutcome, type RemoteHost } from '../../../src/transport/host.js';
import { LOCK_HELD_EXIT, VALIDATION_FAILED_EXIT } from '../../../src/transport/ops-to-shell.js';
import { builtinCommand } from './commands.js';
import { factOutput } from './fact-output.js';

export type FakeEntry =
  | { type: 'file'; mode: string; owner: string; group: string; content: Buffer }
  | { type: 'directory'; mode: string; owner: string; group: string }
  | { type: 'link'; target: string };

export interface FakeUnit {
  active: 'active' | 'inactive' | 'failed';
  unitFile: string;
  needDaemonReload?: boolean;
  /** Its Condition*= fail here: start leaves it inactive (as systemd does). */
  conditionFailed?: boolean;
}

/** A command run on the fake host: returns its exit code. */
export type FakeCommand = (command: string, host: FakeHost) => number;

/** An operator's command (`run`) on the fake host: what it prints; undefined: no output, `command`'s exit code. */
export type FakeCommandOutput = (command: string, host: FakeHost) => CommandOutput | undefined;

const DEFAULT_FACTS: HostFacts = { ...STAND_IN_HOST_FACTS, hostname: 'fake' };

/**
 * An in-memory Debian host for unit tests (src never imports it): a file tree, commands the test defines, and host
 * facts. It answers facts with the same text the real probe snippets print (so the real
 * parsers run) and applies ops with the semantics of the shell they compile to.
 */
export class FakeHost implements RemoteHost {
  readonly files = new Map<string, FakeEntry>([
    ['/', { type: 'directory', mode: '0755', owner: 'root', group: 'root' }],
  ]);
  readonly applied: Op[] = [];
  readonly executed: string[] = [];
  roundTrips = 0;
  facts: HostFacts = { ...DEFAULT_FACTS };
  /** Decides exit codes of `exec` ops and guards; default: every command succeeds. */
  command: FakeCommand = () => 0;
  /** What an operator's command (runCommand) prints; default: nothing, with the exit code `command` gives. */
  commandOutput: FakeCommandOutput = () => undefined;
  /** Decides whether a `validate` command accepts new content; default: accept. */
  validator: (command: string, content: Buffer) => boolean = () => true;
  closed = false;
  /** systemd units by full name (nginx.service). */
  readonly units = new Map<string, FakeUnit>();
  /** Debian packages: installed version and the version apt would install. */
  readonly packages = new Map<string, { installed?: string; candidate?: string; published?: string }>();
  /** Local accounts, as useradd/usermod leave them. */
  readonly users = new Map<string, { uid: number; group: string; groups: string[]; home: string; shell: string }>();
  readonly groups = new Map<string, { gid: number; members: string[] }>();
  /** A MariaDB server on the host. */
  readonly mysql = new FakeMysql();
  /** Seconds since `apt-get update`; Infinity: never. */
  aptCacheAge = 0;

  static with(
    entries: Record<string, Partial<FakeEntry> & { content?: string | Buffer; type?: FakeEntry['type'] }>,
  ): FakeHost {
    const host = new FakeHost();
    for (const [path, e] of Object.entries(entries)) host.put(path, e);
    return host;
  }

  /** Adds an entry (and its missing parent directories). */
  put(path: string, e: Partial<FakeEntry> & { content?: string | Buffer; type?: FakeEntry['type'] }): void {
    this.ensureParents(path);
    const type = e.type ?? 'file';
    const own = {
      mode: (e as { mode?: string }).mode ?? (type === 'directory' ? '0755' : '0644'),
      owner: (e as { owner?: string }).owner ?? 'root',
      group: (e as { group?: string }).group ?? 'root',
    };
    if (type === 'link') this.files.set(path, { type: 'link', target: (e as { target?: string }).target ?? '' });
    else if (type === 'directory') this.files.set(path, { type: 'directory', ...own });
    else this.files.set(path, { type: 'file', ...own, content: Buffer.from(e.content ?? '') });
  }

  private ensureParents(path: string): void {
    const parts = path.split('/').filter(Boolean);
    for (let i = 1; i < parts.length; i++) {
      const dir = `/${parts.slice(0, i).join('/')}`;
      if (!this.files.has(dir)) this.files.set(dir, { type: 'directory', mode: '0755', owner: 'root', group: 'root' });
    }
  }

  private parentExists(path: string): boolean {
    const dir = path.slice(0, path.lastIndexOf('/')) || '/';
    return this.files.get(dir)?.type === 'directory';
  }

  async probe(facts: readonly Fact<unknown>[]): Promise<Map<string, FactOutcome>> {
    const out = new Map<string, FactOutcome>();
    // As over SSH (probeFacts): nothing to read is no round trip.
    if (facts.length === 0) return out;
    this.roundTrips++;
    for (const f of facts) {
      try {
        out.set(f.id, { ok: true, value: f.parse(this.factOutput(f)) });
      } catch (err) {
        out.set(f.id, { ok: false, error: (err as Error).message });
      }
    }
    return out;
  }

  runCommand(command: ShellCommand): Promise<CommandOutput> {
    this.roundTrips++;
    const given = this.commandOutput(command.text, this);
    if (given) {
      this.executed.push(command.text);
      return Promise.resolve(given);
    }
    return Promise.resolve({ stdout: '', stderr: '', code: this.run(command.text) });
  }

  /** The text the real snippet would print on a host in this state. */
  factOutput(f: Fact<unknown>): string {
    return factOutput(this, f);
  }

  /** Runs a command as the ops and guard facts do: MariaDB, the built-in tools, then the test's own. */
  run(command: string, stdin?: string): number {
    this.executed.push(command);
    if (command === MYSQL.text && stdin !== undefined) return this.mysql.execute(stdin);
    return builtinCommand(this, command) ?? this.command(command, this);
  }

  async apply(ops: readonly Op[]): Promise<void> {
    this.roundTrips++;
    for (const op of ops) {
      this.applyOne(op);
      this.applied.push(op);
    }
  }

  private fail(message: string, code = 1): never {
    throw new RemoteError(message, code, message);
  }

  private applyOne(op: Op): void {
    switch (op.op) {
      case 'write': {
        if (!this.parentExists(op.path))
          this.fail(`mktemp: failed to create file via template '${op.path}': No such file or directory`);
        const old = this.files.get(op.path);
        if (op.validate && !this.validator(op.validate, op.content))
          this.fail('validation failed, the file was not installed', VALIDATION_FAILED_EXIT);
        const prev = old?.type === 'file' ? old : undefined;
        this.files.set(op.path, {
          type: 'file',
          content: Buffer.from(op.content),
          mode: op.mode ?? prev?.mode ?? '0644',
          owner: op.owner ?? prev?.owner ?? 'root',
          group: op.group ?? prev?.group ?? 'root',
        });
        return;
      }
      case 'mkdir': {
        this.ensureParents(op.path);
        const cur = this.files.get(op.path);
        if (cur && cur.type !== 'directory') this.fail(`mkdir: cannot create directory '${op.path}': File exists`);
        const base =
          cur?.type === 'directory' ? cur : { type: 'directory' as const, mode: '0755', owner: 'root', group: 'root' };
        this.files.set(op.path, {
          ...base,
          ...(op.mode ? { mode: op.mode } : {}),
          ...(op.owner ? { owner: op.owner } : {}),
          ...(op.group ? { group: op.group } : {}),
        });
        return;
      }
      case 'attributes': {
        const cur = this.files.get(op.path);
        if (!cur || cur.type === 'link') this.fail(`chmod: cannot access '${op.path}': No such file or directory`);
        this.files.set(op.path, {
          ...cur,
          ...(op.mode ? { mode: op.mode } : {}),
          ...(op.owner ? { owner: op.owner } : {}),
          ...(op.group ? { group: op.group } : {}),
        });
        return;
      }
      case 'remove':
        for (const p of [...this.files.keys()]) if (p === op.path || p.startsWith(`${op.path}/`)) this.files.delete(p);
        return;
      case 'symlink':
        if (!this.parentExists(op.path))
          this.fail(`ln: failed to create symbolic link '${op.path}': No such file or directory`);
        this.files.set(op.path, { type: 'link', target: op.target });
        return;
      case 'lock': {
        const owner = `${op.path}/owner`;
        const held = this.files.get(owner);
        if (held && !op.force)
          this.fail(held.type === 'file' ? held.content.toString().trim() : 'unknown owner', LOCK_HELD_EXIT);
        this.put(op.path, { type: 'directory' });
        this.put(owner, { content: `${op.owner}\n` });
        return;
      }
      case 'unlock': {
        const held = this.files.get(`${op.path}/owner`);
        if (held?.type === 'file' && held.content.toString().includes(op.token))
          this.applyOne({ op: 'remove', path: op.path });
        return;
      }
      case 'append': {
        const cur = this.files.get(op.path);
        this.put(op.path, {
          content: Buffer.concat([cur?.type === 'file' ? cur.content : Buffer.alloc(0), Buffer.from(`${op.line}\n`)]),
          mode: '0600',
        });
        return;
      }
      case 'exec': {
        const code = this.run(op.command.text, op.stdin);
        if (code !== 0) this.fail(`command failed with exit code ${code}`, code);
        return;
      }
    }
  }

  close(): void {
    this.closed = true;
  }
}
