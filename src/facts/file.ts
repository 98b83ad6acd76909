import { createHash } from 'node:crypto';
import { lines, sh } from '../shell/command.js';
import type { Fact, SharedPrelude } from './fact.js';

/** Content is fetched for diffs only when it differs from what we want and is at most this big. */
export const MAX_DIFF_BYTES = 256 * 1024;

export type FileState =
  | { type: 'absent' }
  | { type: 'file'; mode: string; owner: string; group: string; size: number; sha256: string; content?: Buffer }
  | { type: 'directory'; mode: string; owner: string; group: string }
  | { type: 'link'; target: string; owner: string; group: string }
  | { type: 'other'; description: string; mode: string; owner: string; group: string };

export function sha256(content: Buffer | string): string {
  return createHash('sha256').update(content).digest('hex');
}

/** Normalises stat's %a ("644") to the 4-digit form users write ("0644"). */
function normaliseMode(mode: string): string {
  return mode.padStart(4, '0');
}

/**
 * One `stat` and one `sha256sum` for every plain file of a probe, run before the snippets, which look
 * their path up in KANKA_STAT / KANKA_SHA256 with shell builtins (no exec per file). Lines are
 * "<path>\t<stat columns>" and sha256sum's "<hash>  <path>", both between newlines.
 */
const fileStatPrelude: SharedPrelude = {
  id: 'file-stat',
  script: (paths) =>
    lines([
      sh`set --; for p in ${paths}; do if [ -e "$p" ] && [ ! -L "$p" ]; then set -- "$@" "$p"; fi; done`,
      sh`KANKA_STAT=''; if [ $# -gt 0 ]; then KANKA_STAT="$KANKA_NL$(stat -c '%n\t%F\t%a\t%U\t%G\t%s' -- "$@")$KANKA_NL"; fi`,
      sh`set --; for p in ${paths}; do if [ -f "$p" ] && [ ! -L "$p" ]; then set -- "$@" "$p"; fi; done`,
      sh`KANKA_SHA256=''; if [ $# -gt 0 ]; then KANKA_SHA256="$KANKA_NL$(sha256sum -- "$@")$KANKA_NL"; fi`,
      sh`set --`,
    ]),
};

/** Paths the prelude's line format can carry as they are (sha256sum escapes \\ and newlines). */
const sharable = (path: string) => !/[\n\t\\]/.test(path);

/**
 * The state of a path. When `wantSha256` is given and the file differs, its content is read
 * too (base64, if small enough) so the plan can show a diff without a second round trip.
 * `'always'` (never a hash) reads the content whatever it is (for edits such as `line`).
 */
export function fileFact(path: string, wantSha256?: string): Fact<FileState> {
  const p = sh`${path}`;
  const shared = sharable(path);
  // Looked up in the prelude's results; when absent there (no prelude, or the file appeared since),
  // read here. A hash is only taken from the prelude when it is 64 hex digits.
  const statLine = shared
    ? [
        sh`  r=''; case "$KANKA_STAT" in *"$KANKA_NL"${p}'\t'*) r=\${KANKA_STAT#*"$KANKA_NL"${p}'\t'}; r=\${r%%"$KANKA_NL"*};; esac`,
        sh`  if [ -n "$r" ]; then printf '%s\\n' "$r"; else stat -c '%F\t%a\t%U\t%G\t%s' -- ${p}; fi`,
      ]
    : [sh`  stat -c '%F\t%a\t%U\t%G\t%s' -- ${p}`];
  const hashLine = shared
    ? [
        sh`  h=''; case "$KANKA_SHA256" in *'  '${p}"$KANKA_NL"*) h=\${KANKA_SHA256%%'  '${p}"$KANKA_NL"*}; h=\${h##*"$KANKA_NL"};; esac`,
        sh`  case "$h" in *[!0-9a-f]*|'') h='';; esac; if [ \${#h} -ne 64 ]; then h=$(sha256sum < ${p}); h=\${h%% *}; fi`,
      ]
    : [sh`  h=$(sha256sum < ${p}); h=\${h%% *}`];
  return {
    id: `file:${path}:${wantSha256 ?? ''}`,
    kind: 'file',
    params: wantSha256 === undefined ? { path } : { path, wantSha256 },
    ...(shared ? { shared: { prelude: fileStatPrelude, items: [path] } } : {}),
    script: () =>
      lines([
        sh`if [ -L ${p} ]; then printf 'link\\t%s\\t' "$(stat -c '%U\t%G' -- ${p})"; readlink -- ${p};`,
        sh`elif [ -e ${p} ]; then`,
        ...statLine,
        sh`  if [ -f ${p} ]; then`,
        ...hashLine,
        sh`  printf 'sha256\\t%s\\n' "$h"`,
        wantSha256 === undefined
          ? sh`  :`
          : sh`  if [ "$h" != ${wantSha256} ] && [ "$(stat -c %s -- ${p})" -le ${MAX_DIFF_BYTES} ]; then printf 'content\\t'; base64 -w0 < ${p}; echo; fi`,
        sh`  fi`,
        sh`else echo absent; fi`,
      ]),
    parse: parseFileState,
  };
}

function parseFileState(output: string): FileState {
  const lines = output.split('\n').filter((l) => l.length > 0);
  const first = lines[0];
  if (first === undefined) throw new Error('empty output from the file probe');
  if (first === 'absent') return { type: 'absent' };
  const cols = first.split('\t');
  if (cols[0] === 'link') {
    return { type: 'link', owner: cols[1] ?? '', group: cols[2] ?? '', target: cols.slice(3).join('\t') };
  }
  const [kind = '', mode = '', owner = '', group = '', size = '0'] = cols;
  if (kind === 'directory') return { type: 'directory', mode: normaliseMode(mode), owner, group };
  if (kind === 'regular file' || kind === 'regular empty file') {
    let hash = '';
    let content: Buffer | undefined;
    for (const line of lines.slice(1)) {
      const tab = line.indexOf('\t');
      const key = line.slice(0, tab);
      const value = line.slice(tab + 1);
      if (key === 'sha256') hash = value;
      else if (key === 'content') content = Buffer.from(value, 'base64');
    }
    if (!/^[0-9a-f]{64}$/.test(hash)) throw new Error(`file probe returned no sha256 for ${first}`);
    const state: FileState = {
      type: 'file',
      mode: normaliseMode(mode),
      owner,
      group,
      size: Number(size),
      sha256: hash,
    };
    return content === undefined ? state : { ...state, content };
  }
  return { type: 'other', description: kind, mode: normaliseMode(mode), owner, group };
}
