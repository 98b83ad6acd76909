import type { Host, Project } from '../config/model.js';
import { connectionTarget } from '../engine/run.js';
import { holderGone, lockOp, processAlive, releaseOps, type RunInfo } from '../engine/lock.js';
import type { Fact } from '../facts/fact.js';
import type { Op } from '../modules/ops.js';
import { RemoteError, type RemoteHost } from '../transport/host.js';
import { LOCK_HELD_EXIT } from '../transport/ops-to-shell.js';
import type { Connector } from '../transport/transport.js';

/** A step on a host did not work: said with the host, shown as is (exit 3). */
export class DbStepError extends Error {
  override name = 'DbStepError';
}

/**
 * The hosts a `db` command works on: connected once, read with facts, changed with ops, under the
 * same run lock as apply (a restore and an apply never interleave on a host).
 */
export class DbSession {
  private readonly locked: string[] = [];

  private constructor(
    private readonly remotes: Map<string, RemoteHost>,
    private readonly info: RunInfo,
  ) {}

  static async open(project: Project, hosts: readonly Host[], connect: Connector, info: RunInfo): Promise<DbSession> {
    const unique = [...new Map(hosts.map((h) => [h.name, h])).values()];
    const opened = await Promise.allSettled(
      unique.map(async (h) => [h.name, await connect(connectionTarget(project.inventory, h))] as const),
    );
    const remotes = new Map(opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : [])));
    const failed = opened.flatMap((o) =>
      o.status === 'rejected' ? [o.reason instanceof Error ? o.reason.message : String(o.reason)] : [],
    );
    if (failed.length > 0) {
      for (const r of remotes.values()) r.close();
      throw new DbStepError(`cannot reach every host this needs, so nothing was changed:\n  ${failed.join('\n  ')}`);
    }
    return new DbSession(remotes, info);
  }

  private remote(host: string): RemoteHost {
    const r = this.remotes.get(host);
    if (!r) throw new Error(`internal error: ${host} is not part of this db session`);
    return r;
  }

  /** Reads one fact on a host; a failure to read is the host's problem, said with its name. */
  async read<T>(host: string, fact: Fact<T>): Promise<T> {
    const outcome = (await this.remote(host).probe([fact])).get(fact.id);
    if (!outcome?.ok)
      throw new DbStepError(
        `${host}: could not read ${fact.kind}: ${outcome && !outcome.ok ? outcome.error : 'no output'}`,
      );
    return outcome.value as T;
  }

  /** Runs ops on a host; their failure carries the host's output. */
  async run(host: string, ops: Op[], what: string): Promise<void> {
    try {
      await this.remote(host).apply(ops);
    } catch (err) {
      if (!(err instanceof RemoteError)) throw err;
      throw new DbStepError(
        `${host}: ${what} failed: ${err.message}${err.output.trim() ? `\n${err.output.trim()}` : ''}`,
      );
    }
  }

  /** Takes the run lock on these hosts, in the order given; refused: nothing else is done. */
  async lock(hosts: readonly string[]): Promise<void> {
    for (const host of hosts) {
      try {
        await this.remote(host).apply([lockOp(this.info, false)]);
        this.locked.push(host);
      } catch (err) {
        if (!(err instanceof RemoteError) || err.code !== LOCK_HELD_EXIT) throw err;
        const owner = err.output.trim();
        const gone = holderGone(owner, this.info.machine, processAlive);
        throw new DbStepError(
          `${host}: locked by another run: ${owner}.${gone ? ' That process is gone: clear the lock with `kanka-infra apply <env> --break-lock` once sure.' : ' Wait for it to finish.'} Nothing was changed.`,
        );
      }
    }
  }

  /** Releases the locks taken, recording what was done in each host's apply log. */
  async release(status: string, detail: string): Promise<string[]> {
    const problems: string[] = [];
    for (const host of this.locked.splice(0)) {
      const record = {
        when: new Date().toISOString(),
        who: `${this.info.user}@${this.info.machine}`,
        pid: this.info.pid,
        command: this.info.command,
        env: this.info.env,
        commit: this.info.commit(),
        status,
        changes: [detail],
      };
      try {
        await this.remote(host).apply(releaseOps(this.info, JSON.stringify(record)));
      } catch (err) {
        problems.push(
          `${host}: its lock could not be released (${err instanceof Error ? err.message : String(err)}): clear it with --break-lock on the next apply`,
        );
      }
    }
    return problems;
  }

  close(): void {
    for (const r of this.remotes.values()) r.close();
  }
}
