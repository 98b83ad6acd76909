import { z } from 'zod';
import { aptWord, singleLine } from '../values/values.js';
import { fileFact, sha256 } from '../facts/file.js';
import { changes, noop, type Change } from './change.js';
import { planFileContent } from './file-content.js';
import { defineModule, type TaskContext } from './module.js';

const args = z
  .strictObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, 'lower-case letters, digits, . and -: it names the files'),
    uri: singleLine('https://deb.example.org/debian').regex(
      /^https?:\/\/\S+$/,
      'must be an http(s) URL without spaces',
    ),
    suite: aptWord('bookworm or bookworm-backports').default('bookworm'),
    components: z.array(aptWord('main')).default(['main']),
    key: z
      .string()
      .includes('BEGIN PGP PUBLIC KEY BLOCK', { message: 'must be an ASCII-armored OpenPGP public key' })
      .optional()
      .describe('the signing key, ASCII-armored'),
    key_src: z.string().min(1).optional().describe("the signing key, a file in the role's files/ folder"),
    state: z.enum(['present', 'absent']).default('present'),
  })
  .refine((a) => a.state === 'absent' || (a.key === undefined) !== (a.key_src === undefined), {
    message: 'give exactly one of `key` or `key_src` (packages from it must be signed)',
  })
  .describe('an upstream apt repository and its signing key (/etc/apt/keyrings, signed-by)');

type AptSourceArgs = z.infer<typeof args> & { keyContent?: Buffer };

const keyPath = (a: AptSourceArgs) => `/etc/apt/keyrings/${a.name}.asc`;
const listPath = (a: AptSourceArgs) => `/etc/apt/sources.list.d/${a.name}.list`;

function keyOf(a: AptSourceArgs, ctx: TaskContext): Buffer {
  return (
    a.keyContent ??
    (a.key !== undefined ? Buffer.from(a.key.endsWith('\n') ? a.key : `${a.key}\n`) : ctx.readRoleFile(a.key_src ?? ''))
  );
}

function listOf(a: AptSourceArgs): Buffer {
  return Buffer.from(
    `# Managed by kanka-infra.\ndeb [signed-by=${keyPath(a)}] ${a.uri} ${a.suite} ${a.components.join(' ')}\n`,
  );
}

export const aptSourceModule = defineModule<AptSourceArgs>({
  name: 'apt_source',
  description:
    'An upstream apt repository with its signing key; the apt module refreshes the lists when it needs a package from it.',
  args,
  prepare: (a, ctx) => (a.state === 'present' ? { ...a, keyContent: keyOf(a, ctx) } : a),
  facts: (a, ctx) =>
    a.state === 'absent'
      ? [fileFact(keyPath(a)), fileFact(listPath(a))]
      : [fileFact(keyPath(a), sha256(keyOf(a, ctx))), fileFact(listPath(a), sha256(listOf(a)))],
  plan(a, facts, ctx) {
    if (a.state === 'absent') {
      const gone = [keyPath(a), listPath(a)].filter((p) => facts.get(fileFact(p)).type !== 'absent');
      if (gone.length === 0) return noop(`apt source ${a.name} is absent`);
      return changes(
        ...gone.map((p): Change => ({ action: 'delete', subject: p, details: [], ops: [{ op: 'remove', path: p }] })),
      );
    }
    const key = keyOf(a, ctx);
    const list = listOf(a);
    const parts = [
      planFileContent(keyPath(a), key, { mode: '0644' }, undefined, facts.get(fileFact(keyPath(a), sha256(key)))),
      planFileContent(listPath(a), list, { mode: '0644' }, undefined, facts.get(fileFact(listPath(a), sha256(list)))),
    ];
    const all = parts.flatMap((p) => (p.status === 'change' ? p.changes : []));
    if (all.length === 0) return noop(`apt source ${a.name} is configured`);
    // The keyrings directory exists on Debian 12, but not on every image.
    all[0]?.ops.unshift({ op: 'mkdir', path: '/etc/apt/keyrings', mode: '0755' });
    return changes(...all);
  },
});
