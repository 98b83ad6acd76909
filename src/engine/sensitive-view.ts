import type { Change } from '../modules/change.js';
import { changedLines, sensitiveDiff } from '../modules/common.js';
import { Redactor } from '../secrets/redact.js';
import type { TaskSensitivity } from './program.js';
import type { ChangeView } from './report.js';

/** How a hidden value is shown: Terraform's word for it. */
export const SENSITIVE = '(sensitive)';

const redactors = new WeakMap<TaskSensitivity, { secrets: Redactor; strings: Redactor }>();

/**
 * Masks the secret values first ("echo (sensitive) | chpasswd" keeps the rest readable), then any
 * whole argument that derives from a secret in a form the values do not match (upper-cased...).
 */
function mask(text: string, s: TaskSensitivity): string {
  let r = redactors.get(s);
  if (!r)
    redactors.set(
      s,
      (r = { secrets: new Redactor(s.secrets, SENSITIVE), strings: new Redactor(s.strings, SENSITIVE) }),
    );
  return r.strings.redact(r.secrets.redact(text));
}

/**
 * Text about a task (a reason, an error, command output) as reports may show it: for a task marked
 * `sensitive: true` nothing of it, otherwise with every value that derives from a secret masked.
 */
export function taskText(text: string, s: TaskSensitivity | undefined, hiddenAs: string): string {
  if (!s) return text;
  if (s.all) return hiddenAs;
  return mask(text, s);
}

/**
 * A change as every output shows it (human, --json, drift, webhook, apply log, saved plans):
 * content that derives from a secret, or any content of a sensitive task, becomes a summary (no
 * hash); values from secrets are masked in the subject and details.
 */
export function changeView(c: Change, s: TaskSensitivity | undefined): ChangeView {
  const hideContent = c.sensitive === true || s !== undefined;
  let diff = c.diff;
  if (diff !== undefined && hideContent && !(c.sensitive === true)) {
    // The module showed content (it did not know its arguments came from a secret): summarise it here.
    diff = c.content
      ? sensitiveDiff(diff.startsWith('--- ') ? changedLines(diff) : undefined)
      : `${SENSITIVE} content changed`;
  }
  const view: ChangeView = {
    action: c.action,
    subject: s?.all ? `${SENSITIVE} ${c.action}` : taskText(c.subject, s, SENSITIVE),
    details: s?.all ? [] : c.details.map((d) => taskText(d, s, SENSITIVE)),
    ...(diff !== undefined ? { diff: s?.all ? `${SENSITIVE} content changed` : diff } : {}),
    ...(hideContent ? { sensitive: true } : {}),
  };
  return view;
}
