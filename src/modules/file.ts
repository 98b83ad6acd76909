import { z } from 'zod';
import { singleLine } from '../values/values.js';
import { fileFact } from '../facts/file.js';
import { changes, noop, PlanError, type Change } from './change.js';
import { absolutePath, attributeDetails, describeType, ownershipShape } from './common.js';
import { defineModule } from './module.js';
import type { Op, Ownership } from './ops.js';

const args = z
  .strictObject({
    path: absolutePath,
    state: z
      .enum(['file', 'directory', 'absent', 'link'])
      .default('file')
      .describe('file: exists (created empty if missing); directory; absent; link (to `target`)'),
    target: singleLine('/etc/nginx/sites-available/kanka')
      .min(1)
      .optional()
      .describe('what a link points to (state: link)'),
    ...ownershipShape,
  })
  .refine((a) => (a.state === 'link') === (a.target !== undefined), {
    message: '`target` is required with state: link and only allowed with it',
    path: ['target'],
  })
  .describe('a file, directory or symbolic link, with mode and ownership');

type FileArgs = z.infer<typeof args>;

export const fileModule = defineModule<FileArgs>({
  name: 'file',
  description: 'Ensure a path is a file, a directory, a symbolic link, or absent; set mode, owner and group.',
  args,
  facts: (a) => [fileFact(a.path)],
  plan(a, facts) {
    const current = facts.get(fileFact(a.path));
    const own: Ownership = { mode: a.mode, owner: a.owner, group: a.group };
    if (a.state === 'absent') {
      if (current.type === 'absent') return noop(`${a.path} is absent`);
      return changes({
        action: 'delete',
        subject: a.path,
        details: [`remove ${describeType(current)}`],
        ops: [{ op: 'remove', path: a.path }],
      });
    }
    if (a.state === 'link') {
      const target = a.target ?? '';
      if (current.type === 'link' && current.target === target) return noop(`${a.path} links to ${target}`);
      if (current.type === 'directory') return refuseReplace(a.path, 'a directory', 'a link');
      const ops: Op[] = [{ op: 'symlink', path: a.path, target }];
      const before = current.type === 'absent' ? undefined : describeType(current);
      return changes({
        action: before ? 'update' : 'create',
        subject: a.path,
        details: [before ? `${before} -> link to ${target}` : `link to ${target}`],
        ops,
      });
    }
    const wantType = a.state === 'directory' ? 'directory' : 'file';
    if (current.type === 'absent') {
      const ops: Op[] =
        wantType === 'directory'
          ? [{ op: 'mkdir', path: a.path, ...own }]
          : [{ op: 'write', path: a.path, content: Buffer.alloc(0), ...own }];
      return changes({
        action: 'create',
        subject: a.path,
        details: [`${wantType}`, ...attributeDetails(undefined, own)],
        ops,
      });
    }
    if (current.type !== wantType) return refuseReplace(a.path, describeType(current), `a ${wantType}`);
    const details = attributeDetails(current, own);
    if (details.length === 0) return noop(`${a.path} is ${describeType(current)} as wanted`);
    const change: Change = {
      action: 'update',
      subject: a.path,
      details,
      ops: [{ op: 'attributes', path: a.path, ...own }],
    };
    return changes(change);
  },
});

/** Replacing a directory (or a file by a directory) could lose data: say so instead of doing it. */
function refuseReplace(path: string, is: string, want: string): never {
  throw new PlanError(
    `${path} is ${is}, not ${want}; remove it first (a file task with state: absent) if that is intended`,
  );
}
