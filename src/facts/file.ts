import { createHash } from 'node:crypto';
import { shq } from '../shell/quote.js';
import type { Fact } from './fact.js';

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
export function normaliseMode(mode: string): string {
  return mode.padStart(4, '0');
}

/**
 * The state of a path. When `wantSha256` is given and the file differs, its content is read
 * too (base64, if small enough) so the plan can show a diff without a second round trip.
 * `'always'` (never a hash) reads the content whatever it is (for edits such as `line`).
 */
export function fileFact(path: string, wantSha256?: string): Fact<FileState> {
  const p = shq(path);
  return {
    id: `file:${path}:${wantSha256 ?? ''}`,
    kind: 'file',
    params: wantSha256 === undefined ? { path } : { path, wantSha256 },
    script: () =>
      [
        `if [ -L ${p} ]; then printf 'link\\t%s\\t' "$(stat -c '%U\t%G' -- ${p})"; readlink -- ${p};`,
        `elif [ -e ${p} ]; then stat -c '%F\t%a\t%U\t%G\t%s' -- ${p};`,
        `  if [ -f ${p} ]; then h=$(sha256sum < ${p}); h=\${h%% *}; printf 'sha256\\t%s\\n' "$h";`,
        wantSha256 === undefined
          ? '  :'
          : `  if [ "$h" != ${shq(wantSha256)} ] && [ "$(stat -c %s -- ${p})" -le ${MAX_DIFF_BYTES} ]; then printf 'content\\t'; base64 -w0 < ${p}; echo; fi`,
        `  fi`,
        `else echo absent; fi`,
      ].join('\n'),
    parse: parseFileState,
  };
}

export function parseFileState(output: string): FileState {
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
    const state: FileState = { type: 'file', mode: normaliseMode(mode), owner, group, size: Number(size), sha256: hash };
    return content === undefined ? state : { ...state, content };
  }
  return { type: 'other', description: kind, mode: normaliseMode(mode), owner, group };
}
