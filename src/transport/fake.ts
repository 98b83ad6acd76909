import { createHash } from 'node:crypto';
import type { Fact } from '../facts/fact.js';
import { MAX_DIFF_BYTES } from '../facts/file.js';
import type { HostFacts } from '../facts/host-facts.js';
import type { Op } from '../modules/ops.js';
import { RemoteError, type FactOutcome, type RemoteHost } from './host.js';

export type FakeEntry =
  | { type: 'file'; mode: string; owner: string; group: string; content: Buffer }
  | { type: 'directory'; mode: string; owner: string; group: string }
  | { type: 'link'; target: string };

/** A command run on the fake host: returns its exit code. */
export type FakeCommand = (command: string, host: FakeHost) => number;

const DEFAULT_FACTS: HostFacts = {
  hostname: 'fake',
  cpus: 2,
  memory_mb: 2048,
  os_id: 'debian',
  os_version: '12',
  os_codename: 'bookworm',
  kernel: '6.1.0',
  uid: 0,
};

/**
 * An in-memory Debian host for unit tests: a file tree, commands the test defines, and host
 * facts. It answers facts with the same text the real probe snippets print (so the real
 * parsers run) and applies ops with the semantics of the shell they compile to.
 */
export class FakeHost implements RemoteHost {
  readonly files = new Map<string, FakeEntry>([['/', { type: 'directory', mode: '0755', owner: 'root', group: 'root' }]]);
  readonly applied: Op[] = [];
  readonly executed: string[] = [];
  roundTrips = 0;
  facts: HostFacts = { ...DEFAULT_FACTS };
  /** Decides exit codes of `exec` ops and guards; default: every command succeeds. */
  command: FakeCommand = () => 0;
  /** Decides whether a `validate` command accepts new content; default: accept. */
  validator: (command: string, content: Buffer) => boolean = () => true;
  closed = false;

  static with(entries: Record<string, Partial<FakeEntry> & { content?: string | Buffer; type?: FakeEntry['type'] }>): FakeHost {
    const host = new FakeHost();
    for (const [path, e] of Object.entries(entries)) host.put(path, e);
    return host;
  }

  /** Adds an entry (and its missing parent directories). */
  put(path: string, e: Partial<FakeEntry> & { content?: string | Buffer; type?: FakeEntry['type'] }): void {
    this.ensureParents(path);
    const type = e.type ?? 'file';
    const own = { mode: (e as { mode?: string }).mode ?? (type === 'directory' ? '0755' : '0644'), owner: (e as { owner?: string }).owner ?? 'root', group: (e as { group?: string }).group ?? 'root' };
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
    this.roundTrips++;
    const out = new Map<string, FactOutcome>();
    for (const f of facts) {
      try {
        out.set(f.id, { ok: true, value: f.parse(this.factOutput(f)) });
      } catch (err) {
        out.set(f.id, { ok: false, error: (err as Error).message });
      }
    }
    return out;
  }

  /** The text the real snippet would print on a host in this state. */
  factOutput(f: Fact<unknown>): string {
    switch (f.kind) {
      case 'host-facts': {
        const h = this.facts;
        return `hostname\t${h.hostname}\ncpus\t${h.cpus}\nmemory_kb\t${h.memory_mb * 1024}\nos_id\t${h.os_id}\nos_version\t${h.os_version}\nos_codename\t${h.os_codename}\nkernel\t${h.kernel}\nuid\t${h.uid}\n`;
      }
      case 'command-status':
        return this.run(f.params['command'] ?? '') === 0 ? 'yes\n' : 'no\n';
      case 'file': {
        const path = f.params['path'] ?? '';
        const e = this.files.get(path);
        if (!e) return 'absent\n';
        if (e.type === 'link') return `link\troot\troot\t${e.target}\n`;
        if (e.type === 'directory') return `directory\t${e.mode.replace(/^0/, '')}\t${e.owner}\t${e.group}\t4096\n`;
        const sha = createHash('sha256').update(e.content).digest('hex');
        const kind = e.content.length === 0 ? 'regular empty file' : 'regular file';
        let text = `${kind}\t${e.mode.replace(/^0/, '')}\t${e.owner}\t${e.group}\t${e.content.length}\nsha256\t${sha}\n`;
        const want = f.params['wantSha256'];
        if (want !== undefined && want !== sha && e.content.length <= MAX_DIFF_BYTES) text += `content\t${e.content.toString('base64')}\n`;
        return text;
      }
      default:
        throw new Error(`the fake host cannot answer ${f.kind} facts yet`);
    }
  }

  private run(command: string): number {
    this.executed.push(command);
    return this.command(command, this);
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
        if (!this.parentExists(op.path)) this.fail(`mktemp: failed to create file via template '${op.path}': No such file or directory`);
        const old = this.files.get(op.path);
        if (op.validate && !this.validator(op.validate, op.content)) this.fail('validation failed, the file was not installed', 87);
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
        const base = cur?.type === 'directory' ? cur : { type: 'directory' as const, mode: '0755', owner: 'root', group: 'root' };
        this.files.set(op.path, { ...base, ...(op.mode ? { mode: op.mode } : {}), ...(op.owner ? { owner: op.owner } : {}), ...(op.group ? { group: op.group } : {}) });
        return;
      }
      case 'attributes': {
        const cur = this.files.get(op.path);
        if (!cur || cur.type === 'link') this.fail(`chmod: cannot access '${op.path}': No such file or directory`);
        this.files.set(op.path, { ...cur, ...(op.mode ? { mode: op.mode } : {}), ...(op.owner ? { owner: op.owner } : {}), ...(op.group ? { group: op.group } : {}) });
        return;
      }
      case 'remove':
        for (const p of [...this.files.keys()]) if (p === op.path || p.startsWith(`${op.path}/`)) this.files.delete(p);
        return;
      case 'symlink':
        if (!this.parentExists(op.path)) this.fail(`ln: failed to create symbolic link '${op.path}': No such file or directory`);
        this.files.set(op.path, { type: 'link', target: op.target });
        return;
      case 'exec': {
        const code = this.run(op.command);
        if (code !== 0) this.fail(`command failed with exit code ${code}`, code);
        return;
      }
    }
  }

  close(): void {
    this.closed = true;
  }
}
