import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fsyncSync,
  linkSync,
  lstatSync,
  openSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

export interface WriteAtomicOptions {
  /** Mode of a new file (an existing file keeps its own). Default 0644. */
  mode?: number;
  /** This mode whatever the replaced file had (secrets: 0600, never wider). */
  forceMode?: number;
  /** Refuse to replace a file: fails with EEXIST if the target exists when the file is put in place. */
  exclusive?: boolean;
  /**
   * A symlink at the target is replaced by the file, not followed (a cache in a directory others
   * could write to must never be written through a planted link). Default: followed.
   */
  replaceLink?: boolean;
}

/** In the name of every temporary file writeAtomic makes, so a cleaner can tell them from the rest. */
export const TMP_MARK = '.kanka-tmp-';

/**
 * THE way kanka-infra writes a file on the operator's machine: the target is either the old or the
 * new content, never half of it, whatever fails. A temporary file beside the target (same
 * directory, so the rename is atomic) is created exclusively without following links, given the
 * replaced file's mode and owner, written, synced, then renamed over it. A symlinked target stays a
 * symlink: the file it points to is replaced. On any failure the temporary file is removed.
 */
export function writeAtomic(target: string, content: string | Uint8Array, options: WriteAtomicOptions = {}): void {
  const path = options.replaceLink ? resolve(target) : throughLinks(target);
  const existing = options.replaceLink ? undefined : statIfThere(path);
  const tmp = join(dirname(path), `.${basename(path)}${TMP_MARK}${randomBytes(6).toString('hex')}`);
  const mode = options.forceMode ?? (existing ? existing.mode & 0o7777 : (options.mode ?? 0o644));
  // Exclusive and no-follow: a link or file planted at the temporary name is never written through.
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  let placed = false;
  try {
    try {
      if (existing && (existing.uid !== process.getuid?.() || existing.gid !== process.getgid?.()))
        fchownSync(fd, existing.uid, existing.gid);
      fchmodSync(fd, mode);
      writeSync(fd, typeof content === 'string' ? Buffer.from(content, 'utf8') : content);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (options.exclusive) {
      // link(2) fails if the target exists: no window between a check and the rename.
      linkSync(tmp, path);
    } else {
      renameSync(tmp, path);
      placed = true;
    }
    syncDir(dirname(path));
  } finally {
    if (!placed) rmSync(tmp, { force: true });
  }
}

/** The file a path ends at, following symlinks (also one pointing to a file not created yet). */
function throughLinks(target: string): string {
  let path = resolve(target);
  for (let hops = 0; hops < 40; hops++) {
    let st: Stats;
    try {
      st = lstatSync(path);
    } catch {
      // Missing: written here, through whatever links its directory path has.
      try {
        return join(realpathSync(dirname(path)), basename(path));
      } catch {
        return path;
      }
    }
    if (!st.isSymbolicLink()) return realpathSync(path);
    path = resolve(dirname(path), readlinkSync(path));
  }
  throw Object.assign(new Error(`${target}: too many levels of symbolic links`), { code: 'ELOOP' });
}

function statIfThere(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** The rename is durable once the directory is synced; best effort (not every filesystem allows it). */
function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, constants.O_RDONLY);
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // The content itself is synced; only the rename's durability is at stake.
  }
}
