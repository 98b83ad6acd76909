import { z } from 'zod';
import { createTwoFilesPatch } from 'diff';
import { accountName, absolutePath } from '../values/values.js';
import { MAX_DIFF_BYTES, sha256, type FileState } from '../facts/file.js';
import type { Ownership } from './ops.js';

export { absolutePath };

const modeSchema = z
  .union([z.string(), z.number()])
  // YAML reads an unquoted 0644 or 644 as the number 644: its digits are what the user meant.
  .transform((m) => (typeof m === 'number' ? String(m) : m))
  .pipe(z.string().regex(/^0?[0-7]{3,4}$/, 'must be an octal mode such as "0644" (quote it in YAML)'))
  .transform((m) => m.replace(/^0?([0-7]{3,4})$/, '$1').padStart(4, '0'))
  .describe('octal mode, e.g. "0644"');

export const ownershipShape = {
  mode: modeSchema.optional(),
  owner: accountName.optional().describe('user name'),
  group: accountName.optional().describe('group name'),
};

/** Lines describing which of mode/owner/group differ from what is wanted. */
export function attributeDetails(
  current: { mode: string; owner: string; group: string } | undefined,
  want: Ownership,
): string[] {
  const details: string[] = [];
  const cmp = (label: string, have: string | undefined, wanted: string | undefined) => {
    if (wanted !== undefined && have !== wanted)
      details.push(have === undefined ? `${label} ${wanted}` : `${label} ${have} -> ${wanted}`);
  };
  cmp('mode', current?.mode, want.mode);
  cmp('owner', current?.owner, want.owner);
  cmp('group', current?.group, want.group);
  return details;
}

export function describeType(state: FileState): string {
  switch (state.type) {
    case 'absent':
      return 'absent';
    case 'file':
      return 'a file';
    case 'directory':
      return 'a directory';
    case 'link':
      return `a link to ${state.target}`;
    case 'other':
      return `a ${state.description}`;
  }
}

function isText(b: Buffer): boolean {
  return !b.subarray(0, 8000).includes(0);
}

/** A file no group or other may read (0600, 0700...): its content is treated as sensitive. */
export function isPrivateMode(mode: string | undefined): boolean {
  return mode !== undefined && (parseInt(mode, 8) & 0o044) === 0;
}

/** Lines a unified diff adds or removes (its headers not counted). */
export function changedLines(diff: string): number {
  return diff
    .split('\n')
    .filter((l) => (l.startsWith('+') && !l.startsWith('+++ ')) || (l.startsWith('-') && !l.startsWith('--- '))).length;
}

/**
 * What a sensitive file's change shows instead of its diff: how much changed, never a line of the
 * content, nor a plain hash of it (a short secret could be guessed offline from one).
 */
export function sensitiveDiff(lines: number | undefined): string {
  return `(sensitive content: ${lines === undefined ? 'changed' : `${lines} line${lines === 1 ? '' : 's'} changed`})`;
}

/** A unified diff, or a one-line summary for binary or large content. */
export function contentDiff(path: string, before: Buffer | undefined, after: Buffer, beforeSummary?: string): string {
  // Content above MAX_DIFF_BYTES (the old content is not even fetched then), or not text, is summarised.
  const summary = (b: Buffer) => `${b.length} bytes, sha256 ${sha256(b).slice(0, 12)}`;
  if (before === undefined && beforeSummary !== undefined) {
    return `content differs (was ${beforeSummary}; now ${summary(after)})`;
  }
  const old = before ?? Buffer.alloc(0);
  if (!isText(old) || !isText(after) || old.length > MAX_DIFF_BYTES || after.length > MAX_DIFF_BYTES) {
    return `binary or large content (${before ? `was ${summary(old)}; ` : ''}now ${summary(after)})`;
  }
  return createTwoFilesPatch(before ? path : '/dev/null', path, old.toString('utf8'), after.toString('utf8'), '', '', {
    context: 3,
  })
    .split('\n')
    .filter((line) => !line.startsWith('=====') && !line.startsWith('Index: '))
    .map((line) => (line.startsWith('--- ') || line.startsWith('+++ ') ? line.trimEnd() : line))
    .join('\n')
    .trimEnd();
}
