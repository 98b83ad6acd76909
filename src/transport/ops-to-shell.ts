import type { Op, Ownership } from '../modules/ops.js';
import { lines, sh, type ShellCommand } from '../shell/command.js';
import { heredoc } from '../shell/heredoc.js';
import { roleValidateCommand } from '../shell/role-shell.js';

/** Exit status a script uses when a `validate` command rejected a new file. */
export const VALIDATION_FAILED_EXIT = 87;
/** Exit status when the run lock is held by someone else (its owner is printed on stderr). */
export const LOCK_HELD_EXIT = 75;

function chownArg(o: Ownership): string | undefined {
  if (o.owner && o.group) return `${o.owner}:${o.group}`;
  if (o.owner) return o.owner;
  if (o.group) return `:${o.group}`;
  return undefined;
}

/**
 * Owner and mode of `target`, never through a symbolic link: chown -h changes a link itself, and
 * GNU chmod always follows one, so a mode change on a link is refused before anything changes
 * (a user's ~/.ssh linked to /root/.ssh must not get the user's mode and owner).
 */
function attributes(target: ShellCommand, o: Ownership): ShellCommand[] {
  const own = chownArg(o);
  return [
    ...(o.mode
      ? [
          sh`if [ -L ${target} ]; then printf 'refusing to change the mode of %s: it is a symbolic link (chmod would change what it points to)\\n' ${target} >&2; exit 1; fi`,
        ]
      : []),
    ...(own ? [sh`chown -h -- ${own} ${target}`] : []),
    ...(o.mode ? [sh`chmod -- ${o.mode} ${target}`] : []),
  ];
}

/** Compiles one op to a POSIX sh fragment. Fragments run under `set -e`. */
function opToShell(op: Op): ShellCommand {
  switch (op.op) {
    case 'write': {
      const dest = op.path;
      const tmp = sh`"$tmp"`;
      const b64 = op.content.toString('base64').replace(/.{1,76}/g, '$&\n');
      const parts = [
        // The temporary file lives beside the target so the final rename is atomic (same filesystem).
        sh`tmp=$(mktemp -- ${`${dirname(dest)}/.kanka-tmp.XXXXXX`})`,
        sh`trap 'rm -f "$tmp"' EXIT`,
        heredoc(sh`base64 -d > ${tmp}`, b64),
        // Attributes not given keep those of the file being replaced; a new file gets 0644 root:root.
        sh`if [ -e ${dest} ]; then chmod --reference=${dest} -- ${tmp}; chown --reference=${dest} -- ${tmp}; else chmod 0644 ${tmp}; fi`,
        ...attributes(tmp, op),
      ];
      if (op.validate) {
        const cmd = roleValidateCommand(op.validate, tmp);
        parts.push(
          sh`if ! out=$( { ${cmd}\n} 2>&1 </dev/null ); then printf '%s\\n' "$out" >&2; exit ${VALIDATION_FAILED_EXIT}; fi`,
        );
      }
      // -T: never move into a directory that took the file's place.
      parts.push(sh`mv -fT -- ${tmp} ${dest}`, sh`trap - EXIT`);
      return lines(parts);
    }
    case 'mkdir':
      return lines([sh`mkdir -p -- ${op.path}`, ...attributes(sh`${op.path}`, op)]);
    case 'attributes': {
      const parts = attributes(sh`${op.path}`, op);
      return parts.length > 0 ? lines(parts) : sh`:`;
    }
    case 'remove':
      return sh`rm -rf -- ${op.path}`;
    case 'symlink':
      // ln -sfn replaces an existing file or link; -T keeps it from descending into a linked directory.
      return sh`ln -sfnT -- ${op.target} ${op.path}`;
    case 'lock': {
      const owner = `${op.path}/owner`;
      const take = sh`mkdir -- ${op.path} 2>/dev/null`;
      return lines([
        sh`mkdir -p -- ${dirname(op.path)}`,
        op.force
          ? sh`if ! ${take}; then rm -rf -- ${op.path}; mkdir -- ${op.path}; fi`
          : sh`if ! ${take}; then cat -- ${owner} >&2 2>/dev/null || echo 'unknown owner' >&2; exit ${LOCK_HELD_EXIT}; fi`,
        sh`printf '%s\\n' ${op.owner} > ${owner}`,
      ]);
    }
    case 'unlock':
      return sh`if grep -qF -- ${op.token} ${`${op.path}/owner`} 2>/dev/null; then rm -rf -- ${op.path}; fi`;
    case 'append':
      return sh`(umask 077; printf '%s\\n' ${op.line} >> ${op.path})`;
    case 'exec': {
      // The script itself arrives on stdin (sh -s): a command must not read the rest of it. The
      // newline before ")" keeps a trailing comment in a role's command from swallowing it.
      const run = op.cwd ? sh`(cd -- ${op.cwd} && ${op.command}\n)` : sh`(${op.command}\n)`;
      return op.stdin === undefined ? sh`${run} </dev/null` : heredoc(run, op.stdin);
    }
  }
}

function dirname(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/** The script that applies a list of ops, stopping at the first failure. */
export function opsToScript(ops: readonly Op[]): ShellCommand {
  return lines([sh`set -e`, ...ops.map(opToShell)]);
}
