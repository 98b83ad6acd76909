import type { Op, Ownership } from '../modules/ops.js';
import { heredoc, shq } from '../shell/quote.js';

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

function attributes(target: string, o: Ownership): string[] {
  const lines: string[] = [];
  const own = chownArg(o);
  if (own) lines.push(`chown ${shq(own)} ${target}`);
  if (o.mode) lines.push(`chmod ${shq(o.mode)} ${target}`);
  return lines;
}

/** Compiles one op to a POSIX sh fragment. Fragments run under `set -e`. */
function opToShell(op: Op): string {
  switch (op.op) {
    case 'write': {
      const dest = shq(op.path);
      const b64 = op.content.toString('base64').replace(/.{1,76}/g, '$&\n');
      const lines = [
        // The temporary file lives beside the target so the final rename is atomic (same filesystem).
        `tmp=$(mktemp ${shq(`${dirname(op.path)}/.kanka-tmp.XXXXXX`)})`,
        `trap 'rm -f "$tmp"' EXIT`,
        heredoc(`base64 -d > "$tmp"`, b64),
        // Attributes not given keep those of the file being replaced; a new file gets 0644 root:root.
        `if [ -e ${dest} ]; then chmod --reference=${dest} "$tmp"; chown --reference=${dest} "$tmp"; else chmod 0644 "$tmp"; fi`,
        ...attributes('"$tmp"', op),
      ];
      if (op.validate) {
        const cmd = op.validate.split('{path}').join('"$tmp"');
        lines.push(
          `if ! out=$( { ${cmd} ; } 2>&1 </dev/null ); then printf '%s\\n' "$out" >&2; exit ${VALIDATION_FAILED_EXIT}; fi`,
        );
      }
      lines.push(`mv -f "$tmp" ${dest}`, `trap - EXIT`);
      return lines.join('\n');
    }
    case 'mkdir':
      return [`mkdir -p ${shq(op.path)}`, ...attributes(shq(op.path), op)].join('\n');
    case 'attributes':
      return attributes(shq(op.path), op).join('\n') || ':';
    case 'remove':
      return `rm -rf -- ${shq(op.path)}`;
    case 'symlink':
      // ln -sfn replaces an existing file or link; -T keeps it from descending into a linked directory.
      return `ln -sfnT ${shq(op.target)} ${shq(op.path)}`;
    case 'lock': {
      const dir = shq(op.path);
      const take = `mkdir ${dir} 2>/dev/null`;
      return [
        `mkdir -p ${shq(op.path.slice(0, op.path.lastIndexOf('/')) || '/')}`,
        op.force
          ? `if ! ${take}; then rm -rf -- ${dir}; mkdir ${dir}; fi`
          : `if ! ${take}; then cat ${dir}/owner >&2 2>/dev/null || echo 'unknown owner' >&2; exit ${LOCK_HELD_EXIT}; fi`,
        `printf '%s\\n' ${shq(op.owner)} > ${dir}/owner`,
      ].join('\n');
    }
    case 'unlock':
      return `if grep -qF -- ${shq(op.token)} ${shq(op.path)}/owner 2>/dev/null; then rm -rf -- ${shq(op.path)}; fi`;
    case 'append':
      return `(umask 077; printf '%s\\n' ${shq(op.line)} >> ${shq(op.path)})`;
    case 'exec': {
      // The script itself arrives on stdin (sh -s): a command must not read the rest of it.
      const run = op.cwd ? `(cd ${shq(op.cwd)} && ${op.command})` : `(${op.command})`;
      return op.stdin === undefined ? `${run} </dev/null` : heredoc(run, op.stdin);
    }
  }
}

function dirname(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/** The script that applies a list of ops, stopping at the first failure. */
export function opsToScript(ops: readonly Op[]): string {
  return ['set -e', ...ops.map(opToShell)].join('\n');
}
