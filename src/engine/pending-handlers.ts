import { fileFact, type FileState } from '../facts/file.js';
import type { Op } from '../modules/ops.js';
import type { CompiledTask, PlayRun } from './program.js';

/**
 * Handlers notified by a change but not yet run are recorded ON THE HOST, in the same script
 * as the change itself, so a run that fails (or is cut off) before its handlers leaves them
 * pending, and the next apply runs them. (Ansible forgets them: ansible/ansible#10498.)
 */
export const STATE_DIR = '/var/lib/kanka-infra';
export const PENDING_FILE = `${STATE_DIR}/pending-handlers`;

export const pendingFact = fileFact(PENDING_FILE, 'always');

/** "role<TAB>handler name", one per line. */
export function handlerKey(handler: Pick<CompiledTask, 'role' | 'name'>): string {
  return `${handler.role}\t${handler.name}`;
}

export function parsePending(state: FileState): Set<string> {
  if (state.type !== 'file' || !state.content) return new Set();
  return new Set(
    state.content
      .toString('utf8')
      .split('\n')
      .filter((l) => l.includes('\t')),
  );
}

/** Ops that make the file on the host hold exactly `pending`. */
export function pendingOps(pending: ReadonlySet<string>): Op[] {
  if (pending.size === 0) return [{ op: 'remove', path: PENDING_FILE }];
  return [
    { op: 'mkdir', path: STATE_DIR, mode: '0700' },
    {
      op: 'write',
      path: PENDING_FILE,
      content: Buffer.from(
        [...pending]
          .sort()
          .map((l) => `${l}\n`)
          .join(''),
      ),
      mode: '0600',
    },
  ];
}

/** The handler a `notify:` names: the notifying task's own role first, then any role of the play. */
export function resolveHandler(play: PlayRun, role: string, name: string): CompiledTask | undefined {
  const own = play.roles.find((r) => r.role === role)?.handlers.find((h) => h.name === name);
  return own ?? play.roles.flatMap((r) => r.handlers).find((h) => h.name === name);
}
