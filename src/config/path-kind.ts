import { statSync } from 'node:fs';
import { ConfigError, describeFsError } from '../diagnostics/diagnostic.js';

export type PathKind = 'file' | 'directory' | 'missing' | 'other';

/**
 * What is at `path` (following symbolic links). Unlike existsSync, a path that cannot be looked
 * at (permission denied, a loop of links) is an error saying so, never "missing".
 */
export function pathKind(path: string, what: string): PathKind {
  let st;
  try {
    st = statSync(path, { throwIfNoEntry: false });
  } catch (err) {
    throw new ConfigError([{ file: path, message: `cannot read ${what}: ${describeFsError(err)}` }]);
  }
  if (!st) return 'missing';
  return st.isFile() ? 'file' : st.isDirectory() ? 'directory' : 'other';
}
