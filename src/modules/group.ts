import { z } from 'zod';
import { groupFact } from '../facts/accounts.js';
import { shq } from '../shell/quote.js';
import { changes, noop } from './change.js';
import { defineModule } from './module.js';

const args = z
  .strictObject({
    name: z.string().regex(/^[a-z_][a-z0-9_-]*$/, 'must be a valid group name'),
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
    const n = shq(a.name);
    if (a.state === 'absent') {
      return g.exists ? changes({ action: 'delete', subject: `group ${a.name}`, details: [], ops: [{ op: 'exec', command: `groupdel ${n}` }] }) : noop(`group ${a.name} does not exist`);
    }
    if (!g.exists) {
      const opts = [a.system ? '--system' : '', a.gid !== undefined ? `--gid ${a.gid}` : ''].filter(Boolean);
      return changes({ action: 'create', subject: `group ${a.name}`, details: a.gid !== undefined ? [`gid ${a.gid}`] : [], ops: [{ op: 'exec', command: ['groupadd', ...opts, n].join(' ') }] });
    }
    if (a.gid !== undefined && g.gid !== a.gid) {
      return changes({ action: 'update', subject: `group ${a.name}`, details: [`gid ${g.gid} -> ${a.gid}`], ops: [{ op: 'exec', command: `groupmod --gid ${a.gid} ${n}` }] });
    }
    return noop(`group ${a.name} exists (gid ${g.gid})`);
  },
});
