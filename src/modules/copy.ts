import { z } from 'zod';
import { roleShellText } from '../values/values.js';
import { fileFact, sha256 } from '../facts/file.js';
import { absolutePath, ownershipShape } from './common.js';
import { planFileContent } from './file-content.js';
import { defineModule, type TaskContext } from './module.js';

export const validateArg = roleShellText
  .includes('{path}', { message: 'must contain {path}, where the temporary file is put (e.g. "nginx -t -c {path}")' })
  .optional()
  .describe('command run on the new file before it replaces the old one; {path} is the temporary file');

const args = z
  .strictObject({
    dest: absolutePath.describe('where the file goes on the host'),
    content: z.string().optional().describe('the file content, inline'),
    src: z.string().min(1).optional().describe("a file in the role's files/ folder"),
    validate: validateArg,
    ...ownershipShape,
  })
  .refine((a) => (a.content === undefined) !== (a.src === undefined), {
    message: 'give exactly one of `content` or `src`',
  })
  .describe('a file with the given content, written atomically');

/** After prepare(), the content is always resolved (inline or read from the role). */
type CopyArgs = z.infer<typeof args> & { resolved?: Buffer };

export const copyModule = defineModule<CopyArgs>({
  name: 'copy',
  description:
    "Write a file from inline content or from the role's files/ folder; atomic (temporary file, validate, rename).",
  args,
  prepare: (a, ctx) => ({ ...a, resolved: resolveContent(a, ctx) }),
  facts: (a, ctx) => [fileFact(a.dest, sha256(contentOf(a, ctx)))],
  plan: (a, facts, ctx) =>
    planFileContent(
      a.dest,
      contentOf(a, ctx),
      { mode: a.mode, owner: a.owner, group: a.group },
      a.validate,
      facts.get(fileFact(a.dest, sha256(contentOf(a, ctx)))),
    ),
});

function resolveContent(a: CopyArgs, ctx: TaskContext): Buffer {
  return a.content !== undefined ? Buffer.from(a.content, 'utf8') : ctx.readRoleFile(a.src ?? '');
}

function contentOf(a: CopyArgs, ctx: TaskContext): Buffer {
  return a.resolved ?? resolveContent(a, ctx);
}
