import type { Fact } from '../facts/fact.js';
import { MAX_DIFF_BYTES, sha256 } from '../facts/file.js';
import type { HostFacts } from '../facts/host-facts.js';
import type { Op } from '../modules/ops.js';
import { MYSQL } from '../facts/mysql.js';
import { FakeMysql } from './fake-mysql.js';
import type { ShellCommand } from '../shell/command.js';
import { RemoteError, type CommandOutput, type FactOutcome, type RemoteHost } from './host.js';

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
        const sha = sha256(e.content);
        const kind = e.content.length === 0 ? 'regular empty file' : 'regular file';
        let text = `${kind}\t${e.mode.replace(/^0/, '')}\t${e.owner}\t${e.group}\t${e.content.length}\nsha256\t${sha}\n`;
        const want = f.params['wantSha256'];
        if (want !== undefined && want !== sha && e.content.length <= MAX_DIFF_BYTES)
          text += `content\t${e.content.toString('base64')}\n`;
        return text;
      }
      case 'systemd-unit': {
        const u = this.units.get(f.params['unit'] ?? '');
        if (!u) return 'LoadState=not-found\nActiveState=inactive\nUnitFileState=\nNeedDaemonReload=no\n';
        const cond = u.conditionFailed
          ? 'ConditionResult=no\nConditionTimestampMonotonic=123\n'
          : 'ConditionResult=yes\nConditionTimestampMonotonic=0\n';
        return `LoadState=loaded\nActiveState=${u.active}\nUnitFileState=${u.unitFile}\nNeedDaemonReload=${u.needDaemonReload ? 'yes' : 'no'}\n${cond}`;
      }
      case 'apt-packages': {
        const names = (f.params['names'] ?? '').split(' ').filter(Boolean);
        const all = f.params['candidates'] === 'all';
        let text = '';
        const need: string[] = [];
        // As dpkg-query prints them: a line per package dpkg knows, none for the others.
        for (const n of names) {
          const p = this.packages.get(n);
          if (p?.installed) text += `pkg\t${n}\tamd64\tii \t${p.installed}\n`;
          if (all || !p?.installed) need.push(n);
        }
        if (need.length === 0) return text;
        const now = 1_800_000_000;
        text += `cache\t${Number.isFinite(this.aptCacheAge) ? now - this.aptCacheAge : 0}\t${now}\npolicy\n`;
        for (const n of need) {
          const p = this.packages.get(n);
          if (p) text += `${n}:\n  Installed: ${p.installed ?? '(none)'}\n  Candidate: ${p.candidate ?? '(none)'}\n`;
        }
        return text;
      }
      case 'user': {
        const u = this.users.get(f.params['name'] ?? '');
        if (!u) return 'absent\n';
        return `passwd\t${f.params['name']}:x:${u.uid}:${this.groups.get(u.group)?.gid ?? 0}::${u.home}:${u.shell}\ngroup\t${u.group}\ngroups\t${[u.group, ...u.groups].join(' ')}\n`;
      }
      case 'group': {
        const g = this.groups.get(f.params['name'] ?? '');
        return g ? `${f.params['name']}:x:${g.gid}:${g.members.join(',')}\n` : 'absent\n';
      }
      case 'check': {
        const tries = Number(f.params['tries'] ?? '1');
        for (let i = 1; i <= tries; i++) if (this.run(f.params['command'] ?? '') === 0) return `passed ${i}\n`;
        return `failed ${tries}\ncheck output\n`;
      }
      case 'mysql-database':
        return this.mysql.databaseOutput(f.params['name'] ?? '');
      case 'mysql-user':
        return this.mysql.userOutput(f.params['name'] ?? '');
      default:
        throw new Error(`the fake host cannot answer ${f.kind} facts yet`);
    }
  }

  private run(command: string, stdin?: string): number {
    this.executed.push(command);
    if (command === MYSQL.text && stdin !== undefined) return this.mysql.execute(stdin);
    return this.builtin(command) ?? this.command(command, this);
  }

  /** systemctl and apt-get as the modules call them; undefined for any other command. */
  private builtin(command: string): number | undefined {
    const sc = /^systemctl (\S+)(?: (\S+))?$/.exec(command);
    if (sc) {
      const [, verb = '', unit = ''] = sc;
      if (verb === 'daemon-reload') {
        for (const u of this.units.values()) u.needDaemonReload = false;
        return 0;
      }
      const u = this.units.get(unit);
      if (!u) return 5;
      if (verb === 'start' || verb === 'restart') u.active = u.conditionFailed ? 'inactive' : 'active';
      else if (verb === 'stop') u.active = 'inactive';
      else if (verb === 'reload') return u.active === 'active' ? 0 : 1;
      else if (verb === 'enable') u.unitFile = 'enabled';
      else if (verb === 'disable') u.unitFile = 'disabled';
      else return 1;
      return 0;
    }
    // The verb is the last word before the package names (options come before it).
    const apt = /apt-get .* (update|install|remove|purge)((?: [^\s-]\S*)*)$/.exec(command);
    if (apt && command.includes('apt-get')) {
      const [, verb = '', rest = ''] = apt;
      if (verb === 'update') {
        this.aptCacheAge = 0;
        // Fresh lists know what the sources publish.
        for (const p of this.packages.values()) if (p.published) p.candidate = p.published;
        return 0;
      }
      for (const n of rest.split(' ').filter((w) => w && !w.startsWith('-'))) {
        const p = this.packages.get(n);
        if (verb === 'install') {
          if (!p?.candidate) return 100;
          this.packages.set(n, { ...p, installed: p.candidate });
        } else if (p) {
          const { installed: _gone, ...rest } = p;
          this.packages.set(n, rest);
        }
      }
      return 0;
    }
    return this.accounts(command);
  }

  /** useradd/usermod/userdel/groupadd/groupmod/groupdel with the options the modules use. */
  private accounts(command: string): number | undefined {
    const words = command.split(' ').map((w) => w.replace(/^'(.*)'$/, '$1'));
    const [tool, ...rest] = words;
    const name = rest[rest.length - 1] ?? '';
    const opt = (flag: string) => {
      const i = rest.indexOf(flag);
      return i >= 0 ? rest[i + 1] : undefined;
    };
    switch (tool) {
      case 'groupadd':
        if (this.groups.has(name)) return 9;
        this.groups.set(name, { gid: Number(opt('--gid') ?? 1000 + this.groups.size), members: [] });
        return 0;
      case 'groupmod': {
        const g = this.groups.get(name);
        if (!g) return 6;
        g.gid = Number(opt('--gid') ?? g.gid);
        return 0;
      }
      case 'groupdel':
        return this.groups.delete(name) ? 0 : 6;
      case 'useradd': {
        if (this.users.has(name)) return 9;
        const group = opt('--gid') ?? name;
        if (!this.groups.has(group)) this.groups.set(group, { gid: 1000 + this.groups.size, members: [] });
        const home = opt('--home-dir') ?? `/home/${name}`;
        this.users.set(name, {
          uid: Number(opt('--uid') ?? 1000 + this.users.size),
          group,
          groups: (opt('--groups') ?? '').split(',').filter(Boolean),
          home,
          shell: opt('--shell') ?? '/bin/sh',
        });
        if (rest.includes('--create-home')) this.put(home, { type: 'directory', owner: name });
        return 0;
      }
      case 'usermod': {
        const u = this.users.get(name);
        if (!u) return 6;
        if (opt('--uid')) u.uid = Number(opt('--uid'));
        if (opt('--gid')) u.group = opt('--gid') ?? u.group;
        if (opt('--groups') !== undefined) u.groups = (opt('--groups') ?? '').split(',').filter(Boolean);
        if (opt('--shell')) u.shell = opt('--shell') ?? u.shell;
        if (opt('--home')) u.home = opt('--home') ?? u.home;
        return 0;
      }
      case 'userdel':
        return this.users.delete(name) ? 0 : 6;
      default:
        return undefined;
    }
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
          this.fail('validation failed, the file was not installed', 87);
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
        if (held && !op.force) this.fail(held.type === 'file' ? held.content.toString().trim() : 'unknown owner', 75);
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
