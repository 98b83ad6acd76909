import { format, inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Secret, SECRET_MASK } from '../../../src/secrets/secret.js';

describe('Secret', () => {
  const s = new Secret('hunter2-very-secret');

  it('reveal() is the way to the value', () => {
    expect(s.reveal()).toBe('hunter2-very-secret');
  });

  it('never prints: String, template literal, concatenation, JSON, inspect, format', () => {
    const renderings = [
      String(s),
      // eslint-disable-next-line @typescript-eslint/restrict-template-expressions -- the misuse under test
      `${s}`,
      'x' + (s as unknown as string),
      s.toString(),
      JSON.stringify(s),
      JSON.stringify({ password: s, nested: [s] }),
      inspect(s),
      inspect({ deep: { deeper: { s } } }, { depth: 10, showHidden: true }),
      format('%s %o %O %j', s, s, s, { s }),
      [s].join(','),
    ];
    for (const r of renderings) {
      expect(r).not.toContain('hunter2');
      expect(r).toContain(SECRET_MASK);
    }
    expect(JSON.stringify({ password: s })).toBe('{"password":"<secret>"}');
    expect(Object.keys(s)).toEqual([]);
    expect({ ...s }).toEqual({});
  });

  it('isSecret tells Secrets apart', () => {
    expect(Secret.isSecret(s)).toBe(true);
    expect(Secret.isSecret('hunter2-very-secret')).toBe(false);
  });
});
