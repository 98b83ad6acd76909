import { z } from 'zod';
import { accountName, singleLine } from '../values/values.js';
import { userFact } from '../facts/accounts.js';
import type { FactReader } from '../facts/fact.js';
import { fileFact, sha256 } from '../facts/file.js';
import { join, sh, type ShellCommand } from '../shell/command.js';
import { changes, noop, PlanError, type Change, type PlanResult } from './change.js';
import { absolutePath, describeType } from './common.js';
import { planFileContent } from './file-content.js';
import { defineModule } from './module.js';

const args = z
  .strictObject({
    name: accountName,
    state: z.enum(['present', 'absent']).default('present'),
    uid: z.number().int().nonnegative().optional(),
    group: accountName.optional().describe('primary group (must exist)'),
    groups: z.array(accountName).optional().describe('supplementary groups, exactly these (must exist)'),
    shell: absolutePath.optional().describe('login shell, e.g. /bin/bash or /usr/sbin/nologin'),
    home: absolutePath.optional().describe('home directory (default /home/<name>, /root for root)'),
    system: z.boolean().default(false).describe('a system account (no aging, uid below 1000) when created'),
    authorized_keys: z
      .array(
        singleLine('ssh-ed25519 AAAA... user@laptop').regex(
          /^(ssh-|ecdsa-|sk-)\S+ \S+/,
          'must be an OpenSSH public key line',
        ),
      )
      .optional()
      .describe('exactly these keys in ~/.ssh/authorized_keys'),
  })
  .describe('a local user account, and the SSH keys that may log in as it');

type UserArgs = z.infer<typeof args>;

function homeOf(a: UserArgs): string {
  return a.home ?? (a.name === 'root' ? '/root' : `/home/${a.name}`);
}

function keysContent(a: UserArgs): Buffer | undefined {
  return a.authorized_keys ? Buffer.from(a.authorized_keys.map((k) => `${k.trim()}\n`).join('')) : undefined;
}

function keysFact(a: UserArgs) {
  const content = keysContent(a);
  return content ? fileFact(`${homeOf(a)}/.ssh/authorized_keys`, sha256(content)) : undefined;
}

/** The directories the keys go through: the home and ~/.ssh. */
const keyDirs = (a: UserArgs): string[] => [homeOf(a), `${homeOf(a)}/.ssh`];

/**
 * The keys are written as the user into ~/.ssh, made theirs: through a symbolic link that would
 * hand whatever it points to (say /root/.ssh) to the user. Refused instead, as is a non-directory.
 */
function refuseLinkedKeyDirs(a: UserArgs, facts: FactReader): void {
  for (const dir of keyDirs(a)) {
    const st = facts.get(fileFact(dir));
    if (st.type === 'link')
      throw new PlanError(
        `${dir} is a symbolic link to ${st.target}: the SSH keys of ${a.name} are not written through a link (its target would be given to ${a.name}); make it a real directory`,
      );
    if (st.type !== 'absent' && st.type !== 'directory')
      throw new PlanError(
        `${dir} is ${describeType(st)}, not a directory; the SSH keys of ${a.name} need it to be one`,
      );
  }
}

export const userModule = defineModule<UserArgs>({
  name: 'user',
  description:
    'A local user: created, changed (uid, groups, shell, home) or removed (home kept), with its authorized SSH keys.',
  args,
  facts: (a) => {
    const keys = keysFact(a);
    return keys ? [userFact(a.name), ...keyDirs(a).map((d) => fileFact(d)), keys] : [userFact(a.name)];
  },
  plan(a, facts): PlanResult {
    const u = facts.get(userFact(a.name));
    if (a.state === 'absent') {
      if (!u.exists) return noop(`user ${a.name} does not exist`);
      return changes({
        action: 'delete',
        subject: `user ${a.name}`,
        details: ['home directory kept'],
        ops: [{ op: 'exec', command: sh`userdel ${a.name}` }],
      });
    }
    const list: Change[] = [];
    const opts: ShellCommand[] = [];
    const details: string[] = [];
    // Values follow their option as its argument (getopt never reads them as options); names are validated.
    const want = <T>(
      label: string,
      have: T | undefined,
      wanted: T | undefined,
      flag: ShellCommand,
      show: (v: T) => string,
    ) => {
      if (wanted === undefined || (u.exists && JSON.stringify(have) === JSON.stringify(wanted))) return;
      opts.push(sh`${flag} ${show(wanted)}`);
      details.push(
        u.exists ? `${label} ${have === undefined ? '' : show(have)} -> ${show(wanted)}` : `${label} ${show(wanted)}`,
      );
    };
    const sortedGroups = a.groups ? [...a.groups].sort() : undefined;
    want('uid', u.exists ? u.uid : undefined, a.uid, sh`--uid`, String);
    want('group', u.exists ? u.group : undefined, a.group, sh`--gid`, String);
    want('groups', u.exists ? [...u.groups].sort() : undefined, sortedGroups, sh`--groups`, (g: string[]) =>
      g.join(','),
    );
    want('shell', u.exists ? u.shell : undefined, a.shell, sh`--shell`, String);
    want('home', u.exists ? u.home : undefined, a.home, u.exists ? sh`--move-home --home` : sh`--home-dir`, String);
    if (!u.exists) {
      const extra = [
        ...(a.system ? [sh`--system`] : []),
        sh`--create-home`,
        ...(a.home === undefined ? [sh`--home-dir ${homeOf(a)}`] : []),
      ];
      list.push({
        action: 'create',
        subject: `user ${a.name}`,
        details,
        ops: [{ op: 'exec', command: join([sh`useradd`, ...extra, ...opts, sh`${a.name}`]) }],
      });
    } else if (opts.length > 0) {
      list.push({
        action: 'update',
        subject: `user ${a.name}`,
        details,
        ops: [{ op: 'exec', command: join([sh`usermod`, ...opts, sh`${a.name}`]) }],
      });
    }
    const keys = keysContent(a);
    const kf = keysFact(a);
    if (keys && kf) {
      refuseLinkedKeyDirs(a, facts);
      const dir = `${homeOf(a)}/.ssh`;
      const current = u.exists ? facts.get(kf) : { type: 'absent' as const };
      const planned = planFileContent(
        `${dir}/authorized_keys`,
        keys,
        { mode: '0600', owner: a.name },
        undefined,
        current,
      );
      if (planned.status === 'change') {
        for (const c of planned.changes) c.ops.unshift({ op: 'mkdir', path: dir, mode: '0700', owner: a.name });
        list.push(...planned.changes);
      }
    }
    if (list.length === 0) return noop(`user ${a.name} is as wanted`);
    return changes(...list);
  },
});
