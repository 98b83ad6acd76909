import { z } from 'zod';
import { fileFact, MAX_DIFF_BYTES } from '../facts/file.js';
import { noop, PlanError } from './change.js';
import { singleLine } from '../values/values.js';
import { absolutePath, ownershipShape } from './common.js';
import { planFileContent } from './file-content.js';
import { defineModule } from './module.js';

const args = z
  .strictObject({
    path: absolutePath,
    line: singleLine('PermitRootLogin no').optional().describe('the line that must be present'),
    regexp: z
      .string()
      .refine((r) => {
        try {
          new RegExp(r);
          return true;
        } catch {
          return false;
        }
      }, 'must be a valid regular expression')
      .optional()
      .describe('lines matching this are replaced by `line` (the last match) or, with state: absent, removed'),
    state: z.enum(['present', 'absent']).default('present'),
    create: z.boolean().default(false).describe('create the file if it does not exist'),
    ...ownershipShape,
  })
  .refine((a) => a.state === 'absent' || a.line !== undefined, {
    message: '`line` is required with state: present',
    path: ['line'],
  })
  .refine((a) => a.state === 'present' || a.line !== undefined || a.regexp !== undefined, {
    message: 'give `regexp` or `line` to say which lines to remove',
  })
  .describe('one line in a file: present (replacing the lines a regular expression matches) or absent');

type LineArgs = z.infer<typeof args>;

/** The new text, or undefined when nothing changes. Keeps the file's final newline convention. */
function editLines(text: string, a: Pick<LineArgs, 'line' | 'regexp' | 'state'>): string {
  const endsWithNewline = text.endsWith('\n') || text === '';
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  const re = a.regexp !== undefined ? new RegExp(a.regexp) : undefined;
  const matches = (l: string) => (re ? re.test(l) : l === a.line);
  if (a.state === 'absent')
    return joinLines(
      lines.filter((l) => !matches(l)),
      endsWithNewline,
    );
  const line = a.line ?? '';
  let last = -1;
  lines.forEach((l, i) => {
    if (matches(l)) last = i;
  });
  if (last >= 0) lines[last] = line;
  else if (!lines.includes(line)) lines.push(line);
  return joinLines(lines, true);
}

function joinLines(lines: string[], finalNewline: boolean): string {
  return lines.length === 0 ? '' : `${lines.join('\n')}${finalNewline ? '\n' : ''}`;
}

export const lineModule = defineModule<LineArgs>({
  name: 'line',
  description:
    'Ensure one line is present in a file (replacing what a regular expression matches) or absent; the file is rewritten atomically.',
  args,
  facts: (a) => [fileFact(a.path, 'always')],
  plan(a, facts) {
    const current = facts.get(fileFact(a.path, 'always'));
    const own = { mode: a.mode, owner: a.owner, group: a.group };
    if (current.type === 'absent') {
      if (a.state === 'absent') return noop(`${a.path} does not exist`);
      if (!a.create) throw new PlanError(`${a.path} does not exist; set create: true to create it`);
      return planFileContent(a.path, Buffer.from(editLines('', a)), own, undefined, current);
    }
    if (current.type !== 'file') throw new PlanError(`${a.path} is not a regular file`);
    if (current.content === undefined)
      throw new PlanError(`${a.path} is larger than ${MAX_DIFF_BYTES} bytes; the line module edits small text files`);
    const next = editLines(current.content.toString('utf8'), a);
    return planFileContent(a.path, Buffer.from(next), own, undefined, current);
  },
});
