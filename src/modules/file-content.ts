import { sha256, type FileState } from '../facts/file.js';
import { changes, noop, PlanError, type PlanResult } from './change.js';
import { attributeDetails, changedLines, contentDiff, describeType, isPrivateMode, sensitiveDiff } from './common.js';
import type { Ownership } from './ops.js';

/**
 * Shared by copy and template: one write path for every file the tool manages. `sensitive`: the
 * content derives from a secret. A private file (no group or other read, before or after) is
 * sensitive too: its diff is a summary, never content.
 */
export function planFileContent(
  dest: string,
  content: Buffer,
  own: Ownership,
  validate: string | undefined,
  current: FileState,
  sensitive = false,
): PlanResult {
  const write = { op: 'write' as const, path: dest, content, ...own, ...(validate ? { validate } : {}) };
  const after = sha256(content);
  const hidden = sensitive || isPrivateMode(own.mode) || (current.type === 'file' && isPrivateMode(current.mode));
  const diffOf = (before: Buffer | undefined, beforeSummary?: string): string => {
    const diff = contentDiff(dest, before, content, beforeSummary);
    if (!hidden) return diff;
    const unified = diff.startsWith('--- ');
    return sensitiveDiff(unified ? changedLines(diff) : undefined);
  };
  const marks = {
    ...(hidden ? { sensitive: true } : {}),
    content: { ...(current.type === 'file' ? { before: current.sha256 } : {}), after },
  };
  if (current.type === 'absent') {
    return changes({
      action: 'create',
      subject: dest,
      details: attributeDetails(undefined, own),
      diff: diffOf(undefined),
      ...marks,
      ops: [write],
    });
  }
  if (current.type !== 'file') {
    throw new PlanError(`${dest} is ${describeType(current)}, not a file; remove it first if it should be replaced`);
  }
  const attrs = attributeDetails(current, own);
  if (current.sha256 !== after) {
    const diff = diffOf(current.content, current.content ? undefined : `${current.size} bytes`);
    return changes({ action: 'update', subject: dest, details: attrs, diff, ...marks, ops: [write] });
  }
  if (attrs.length > 0)
    return changes({
      action: 'update',
      subject: dest,
      details: attrs,
      ops: [{ op: 'attributes', path: dest, ...own }],
    });
  return noop(`${dest} is up to date`);
}
