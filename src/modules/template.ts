import { join, normalize, relative } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../diagnostics/diagnostic.js';
import { fileFact, sha256 } from '../facts/file.js';
import { STAND_IN_HOST_FACTS, type HostFacts } from '../facts/host-facts.js';
import { renderTemplate } from '../template/render.js';
import { absolutePath, ownershipShape } from './common.js';
import { validateArg } from './copy.js';
import { planFileContent } from './file-content.js';
import { defineModule, type TaskContext } from './module.js';

const args = z
  .strictObject({
    src: z.string().min(1).describe("template in the role's templates/ folder (Handlebars, e.g. haproxy.cfg.hbs)"),
    dest: absolutePath.describe('where the rendered file goes on the host'),
    validate: validateArg,
    ...ownershipShape,
  })
  .describe('a file rendered from a Handlebars template, written atomically');

type TemplateArgs = z.infer<typeof args> & { file?: string };

/**
 * Before any host is contacted, templates are rendered once with stand-in facts, so an unknown
 * variable is reported by `validate` and before a connection. The real render uses real facts.
 */
const STAND_IN_FACTS = STAND_IN_HOST_FACTS;

const rendered = new WeakMap<object, Map<HostFacts, RenderedFile>>();

/** A rendered template, and whether it read a secret (then its content is never shown). */
export interface RenderedFile {
  content: Buffer;
  sensitive: boolean;
}

function templateFile(a: TemplateArgs, ctx: TaskContext): string {
  if (a.file) return a.file;
  const dir = join(ctx.roleDir, 'templates');
  const file = normalize(join(dir, a.src));
  if (relative(dir, file).startsWith('..'))
    throw new ConfigError([{ file: dir, message: `src "${a.src}" points outside the role's templates/ folder` }]);
  return file;
}

/** Renders for this host's facts, once per task and host (facts() and plan() both need it). */
export function render(a: TemplateArgs, ctx: TaskContext): RenderedFile {
  const facts = ctx.hostFacts ?? STAND_IN_FACTS;
  let byFacts = rendered.get(a);
  if (!byFacts) rendered.set(a, (byFacts = new Map<HostFacts, RenderedFile>()));
  let out = byFacts.get(facts);
  if (!out) {
    const { text, sensitive } = renderTemplate(templateFile(a, ctx), { ...ctx.vars, facts });
    out = { content: Buffer.from(text, 'utf8'), sensitive };
    byFacts.set(facts, out);
  }
  return out;
}

export const templateModule = defineModule<TemplateArgs>({
  name: 'template',
  description:
    "Render a Handlebars template from the role's templates/ folder with this host's variables and facts; atomic write, optional validation.",
  args,
  prepare(a, ctx) {
    const prepared = { ...a, file: templateFile(a, ctx) };
    render(prepared, ctx);
    return prepared;
  },
  // The first look needs no host facts (the content is not known yet): the file's hash only.
  facts: (a) => [fileFact(a.dest)],
  plan: (a, facts, ctx) => {
    const { content, sensitive } = render(a, ctx);
    const want = sha256(content);
    let current = facts.get(fileFact(a.dest));
    // Only a changed file is read again, with its content, for the diff.
    if (current.type === 'file' && current.sha256 !== want) current = facts.get(fileFact(a.dest, want));
    return planFileContent(
      a.dest,
      content,
      { mode: a.mode, owner: a.owner, group: a.group },
      a.validate,
      current,
      sensitive,
    );
  },
});
