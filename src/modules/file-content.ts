import { sha256, type FileState } from '../facts/file.js';
import { changes, noop, PlanError, type PlanResult } from './change.js';
import { attributeDetails, contentDiff, describeType } from './common.js';
import type { Ownership } from './ops.js';

/** Shared by copy and template: one write path for every file the tool manages. */
export function planFileContent(dest: string, content: Buffer, own: Ownership, validate: string | undefined, current: FileState): PlanResult {
  const write = { op: 'write' as const, path: dest, content, ...own, ...(validate ? { validate } : {}) };
  if (current.type === 'absent') {
    return changes({ action: 'create', subject: dest, details: attributeDetails(undefined, own), diff: contentDiff(dest, undefined, content), ops: [write] });
  }
  if (current.type !== 'file') {
    throw new PlanError(`${dest} is ${describeType(current)}, not a file; remove it first if it should be replaced`);
  }
  const attrs = attributeDetails(current, own);
  if (current.sha256 !== sha256(content)) {
    const diff = contentDiff(dest, current.content, content, current.content ? undefined : `${current.size} bytes`);
    return changes({ action: 'update', subject: dest, details: attrs, diff, ops: [write] });
  }
  if (attrs.length > 0) return changes({ action: 'update', subject: dest, details: attrs, ops: [{ op: 'attributes', path: dest, ...own }] });
  return noop(`${dest} is up to date`);
}
