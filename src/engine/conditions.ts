import { InterpolationError, interpolate, type Taint } from './interpolate.js';
import { renderInline } from '../template/render.js';

const BARE_NAME = /^[A-Za-z_][\w.-]*$/;

/**
 * `when:` is a Handlebars sub-expression without its braces ("eq mariadb_role 'replica'",
 * "not thumbor_wheels", "includes host.groups 'backend'"), or a bare variable name: true when it
 * is truthy. Strict like everything else: an unknown name in it is an error, never false.
 */
export function evaluateWhen(expression: string, context: Record<string, unknown>): boolean {
  const trimmed = expression.trim();
  if (BARE_NAME.test(trimmed)) return truthy(interpolate(`{{ ${trimmed} }}`, context, ['when']));
  try {
    return renderInline(`{{#if (${trimmed})}}1{{/if}}`, context).text === '1';
  } catch (err) {
    const unknown = /unknown variable "([^"]+)"/.exec((err as Error).message);
    if (unknown) throw new InterpolationError(`unknown variable "${unknown[1]}" in when`, ['when']);
    const reason = 'reason' in (err as object) ? String((err as { reason: unknown }).reason) : (err as Error).message;
    throw new InterpolationError(`cannot evaluate when: ${reason}`, ['when']);
  }
}

function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  return Boolean(v) && v !== 'false' && v !== '0';
}

/** The items of `loop:`: a literal list, or "{{ variable }}" naming a list. */
export function loopItems(loop: string | unknown[], context: Record<string, unknown>, taint?: Taint): unknown[] {
  const value = typeof loop === 'string' ? interpolate(loop, context, ['loop'], taint) : loop;
  if (!Array.isArray(value)) throw new InterpolationError(`loop must be a list, got ${typeof value}`, ['loop']);
  return value;
}
