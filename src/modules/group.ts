import { z } from 'zod';
import { accountName } from '../values/values.js';
import { groupFact } from '../facts/accounts.js';
import { join, sh } from '../shell/command.js';
import { changes, noop } from './change.js';
import { defineModule } from './module.js';

const args = z
  .strictObject({
    name: accountName,
    state: z.enum(['present', 'absent']).default('present'),
    gid: z.number().int().nonnegative().optional(),
    system: z.boolean().default(false),
  })
  .describe('a local group');

type GroupArgs = z.infer<typeof args>;

export const groupModule = defineModule<GroupArgs>({
  name: 'group',
  description: 'A local group: created (optionally with a gid, as a system group), gid changed, or removed.',
  args,
  facts: (a) => [groupFact(a.name)],
  plan(a, facts) {
    const g = facts.get(groupFact(a.name));
    if (a.state === 'absent') {
      return g.exists
        ? changes({
            action: 'delete',
            subject: `group ${a.name}`,
            details: [],
            ops: [{ op: 'exec', command: sh`groupdel ${a.name}` }],
          })
        : noop(`group ${a.name} does not exist`);
    }
    if (!g.exists) {
      const opts = [...(a.system ? [sh`--system`] : []), ...(a.gid !== undefined ? [sh`--gid ${a.gid}`] : [])];
      return changes({
        action: 'create',
        subject: `group ${a.name}`,
        details: a.gid !== undefined ? [`gid ${a.gid}`] : [],
        ops: [{ op: 'exec', command: join([sh`groupadd`, ...opts, sh`${a.name}`]) }],
      });
    }
    if (a.gid !== undefined && g.gid !== a.gid) {
      return changes({
        action: 'update',
        subject: `group ${a.name}`,
        details: [`gid ${g.gid} -> ${a.gid}`],
        ops: [{ op: 'exec', command: sh`groupmod --gid ${a.gid} ${a.name}` }],
      });
    }
    return noop(`group ${a.name} exists (gid ${g.gid})`);
  },
});
