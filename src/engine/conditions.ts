import { InterpolationError, interpolate } from './interpolate.js';
import { renderInline } from '../template/render.js';

/**
 * `when:` is a Handlebars sub-expression without its braces ("eq mariadb_role 'replica'",
 * "not thumbor_wheels", "includes host.groups 'backend'"): true when it renders truthy.
 */
export function evaluateWhen(expression: string, context: Record<string, unknown>): boolean {
  try {
    return renderInline(`{{#if (${expression})}}1{{/if}}`, context) === '1';
  } catch (err) {
    // A bare variable name is not a helper call: look it up instead.
    if (/^[A-Za-z_][\w.]*$/.test(expression.trim())) {
      return truthy(interpolate(`{{ ${expression.trim()} }}`, context));
    }
    throw new InterpolationError(`cannot evaluate when: ${(err as Error).message}`, ['when']);
  }
}

function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  return Boolean(v) && v !== 'false' && v !== '0';
}

/** The items of `loop:`: a literal list, or "{{ variable }}" naming a list. */
export function loopItems(loop: string | unknown[], context: Record<string, unknown>): unknown[] {
  const value = typeof loop === 'string' ? interpolate(loop, context, ['loop']) : loop;
  if (!Array.isArray(value)) throw new InterpolationError(`loop must be a list, got ${typeof value}`, ['loop']);
  return value;
}
