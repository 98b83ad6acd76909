import { z } from 'zod';
import { aptFact } from '../facts/apt-packages.js';
import { sh, type ShellCommand } from '../shell/command.js';
import { changes, noop, PlanError, type Change } from './change.js';
import { defineModule } from './module.js';

const packageName = z.string().regex(/^[a-z0-9][a-z0-9+.-]+$/, 'must be a Debian package name');

const args = z
  .strictObject({
    name: z.union([packageName, z.array(packageName).min(1)]).describe('package or list of packages'),
    state: z.enum(['present', 'absent', 'latest']).default('present'),
    update_cache: z
      .boolean()
      .default(true)
      .describe('refresh the package lists before installing, if older than cache_valid_time'),
    cache_valid_time: z.number().int().nonnegative().default(3600).describe('seconds the package lists count as fresh'),
    install_recommends: z.boolean().default(false),
    purge: z.boolean().default(false).describe('with state: absent, also remove configuration files'),
    lock_timeout: z
      .number()
      .int()
      .positive()
      .default(300)
      .describe('seconds to wait for another apt/dpkg to release its lock'),
  })
  .describe('Debian packages installed, upgraded or removed (apt-get, non-interactive)');

type AptArgs = z.infer<typeof args>;

const names = (a: AptArgs): string[] => (Array.isArray(a.name) ? a.name : [a.name]);

/** Non-interactive apt-get that waits for a held lock (up to lock_timeout) instead of failing at once. */
function aptGet(
  a: Pick<AptArgs, 'lock_timeout' | 'install_recommends'>,
  verb: 'install' | 'remove' | 'purge',
  pkgs: string[],
): ShellCommand {
  const recommends = verb === 'install' && !a.install_recommends ? sh` --no-install-recommends` : sh``;
  // Package names are validated (they never start with "-").
  return sh`DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=${a.lock_timeout} -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold${recommends} ${verb} ${pkgs}`;
}

export const aptModule = defineModule<AptArgs>({
  name: 'apt',
  description: 'Install, upgrade (latest) or remove Debian packages; refreshes stale package lists before installing.',
  args,
  facts: (a) => [aptFact(names(a), a.state === 'latest')],
  plan(a, facts) {
    const s = facts.get(aptFact(names(a), a.state === 'latest'));
    const list: Change[] = [];
    const stale = a.update_cache && s.cacheAge > a.cache_valid_time;
    if (a.state === 'absent') {
      const remove = names(a).filter((n) => s.packages[n]?.installed !== undefined);
      if (remove.length === 0) return noop(`${names(a).join(', ')} not installed`);
      for (const n of remove)
        list.push({
          action: 'delete',
          subject: `package ${n}`,
          details: [`${s.packages[n]?.installed ?? ''}${a.purge ? ', purge config' : ''}`],
          ops: [],
        });
      list[0]?.ops.push({ op: 'exec', command: aptGet(a, a.purge ? 'purge' : 'remove', remove) });
      return changes(...list);
    }
    const install: string[] = [];
    // A package the current lists do not know may be in fresher ones: refresh first (if allowed).
    const unknown = names(a).filter(
      (n) => s.packages[n]?.installed === undefined && s.packages[n]?.candidate === undefined,
    );
    if (unknown.length > 0 && !a.update_cache) {
      throw new PlanError(
        `package ${unknown.join(', ')} is not available from the host's apt sources (apt-cache policy shows no candidate, and update_cache is off); check the name and the apt sources`,
      );
    }
    const refresh = stale || unknown.length > 0;
    for (const n of names(a)) {
      const p = s.packages[n] ?? {};
      if (p.installed === undefined) {
        install.push(n);
        list.push({
          action: 'create',
          subject: `package ${n}`,
          details: [p.candidate ?? 'not in the current package lists: they are refreshed first'],
          ops: [],
        });
      } else if (a.state === 'latest' && p.candidate !== undefined && p.candidate !== p.installed) {
        install.push(n);
        list.push({
          action: 'update',
          subject: `package ${n}`,
          details: [`${p.installed} -> ${p.candidate}`],
          ops: [],
        });
      }
    }
    if (install.length === 0)
      return noop(
        `${names(a)
          .map((n) => `${n} ${s.packages[n]?.installed ?? ''}`.trim())
          .join(', ')} installed`,
      );
    // One apt-get for every package of the task: dependency resolution once, one dpkg run.
    const first = list[0];
    if (first) {
      if (refresh) {
        // Not the lists' exact age: a plan must read the same a minute later (saved plans compare it).
        if (stale)
          first.details.push(
            `package lists refreshed first (${Number.isFinite(s.cacheAge) ? `older than ${Math.round(a.cache_valid_time / 60)} min` : 'never updated'})`,
          );
        first.ops.push({ op: 'exec', command: sh`apt-get -q -o DPkg::Lock::Timeout=${a.lock_timeout} update` });
      }
      first.ops.push({ op: 'exec', command: aptGet(a, 'install', install) });
    }
    return changes(...list);
  },
});
