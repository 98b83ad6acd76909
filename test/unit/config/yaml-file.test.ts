import { isUtf8 } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/diagnostics/diagnostic.js';
import { firstInvalidUtf8 } from '../../../src/config/utf8.js';
import { checkYamlDepth } from '../../../src/config/yaml-depth.js';
import { parseYaml } from '../../../src/config/yaml-file.js';

const messages = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.diagnostics.map((d) => `${d.line ?? '-'}: ${d.message}`);
    throw err;
  }
  return [];
};

describe('UTF-8 check', () => {
  it('finds the first invalid byte exactly where Node stops accepting the text', () => {
    for (let i = 0; i < 2000; i++) {
      // Mostly text with a few high bytes, so valid multi-byte sequences occur too.
      const b = Buffer.from([...randomBytes(24)].map((x) => (x < 200 ? 0x41 + (x % 26) : x)));
      const off = firstInvalidUtf8(b);
      expect(off === b.length).toBe(isUtf8(b));
      expect(isUtf8(b.subarray(0, off))).toBe(true);
    }
    expect(firstInvalidUtf8(Buffer.from('héllo ✓ 𝄞', 'utf8'))).toBe(Buffer.byteLength('héllo ✓ 𝄞'));
    expect(firstInvalidUtf8(Buffer.from([0x61, 0xed, 0xa0, 0x80]))).toBe(1); // a UTF-16 surrogate
    expect(firstInvalidUtf8(Buffer.from([0x61, 0xe2, 0x82]))).toBe(1); // cut short
  });
});

describe('YAML depth guard', () => {
  it('does not count brackets in plain scalars, quotes, comments and block scalars', () => {
    const lines = [
      ...Array.from({ length: 300 }, (_, i) => `k${i}: value[${i} with an open bracket`),
      'q: "[[[[[[[[[[" # [[[[[[',
      "s: '{{{{{{{{{{'",
      'script: |',
      ...Array.from({ length: 300 }, () => '  if [ -f /x ]; then [[ a'),
      'after: [1, [2, [3]]]',
    ];
    expect(() => checkYamlDepth(lines.join('\n'), 'f.yml')).not.toThrow();
  });

  it('counts flow and block nesting', () => {
    expect(messages(() => checkYamlDepth(`a: ${'{x: '.repeat(250)}1${'}'.repeat(250)}`, 'f.yml'))).toEqual([
      '1: nested more than 200 levels deep',
    ]);
    expect(messages(() => checkYamlDepth(`${'- '.repeat(250)}x`, 'f.yml'))).toEqual([
      '1: nested more than 200 levels deep',
    ]);
  });
});

describe('parseYaml', () => {
  it('keeps small anchors and aliases working', () => {
    const y = parseYaml('base: &b { port: 80 }\nweb: *b\nlist: [*b, *b]\n', 'f.yml');
    expect(y.data).toEqual({ base: { port: 80 }, web: { port: 80 }, list: [{ port: 80 }, { port: 80 }] });
  });

  it('finds duplicate keys at any depth, with both lines', () => {
    expect(messages(() => parseYaml('a:\n  b: 1\n  c: 2\n  b: 3\nd: [{x: 1, x: 2}]\n', 'f.yml'))).toEqual([
      '4: duplicate key "b" (first at line 2)',
      '5: duplicate key "x" (first at line 5)',
    ]);
  });

  it('locates keys of a large mapping', () => {
    const y = parseYaml(
      `hosts:\n${Array.from({ length: 5000 }, (_, i) => `  h${i}: { port: ${i} }`).join('\n')}\n`,
      'f.yml',
    );
    expect(y.locate(['hosts', 'h4999', 'port'])).toEqual({ line: 5001, column: 12 });
    expect(y.locate(['hosts', 'nope'])).toEqual({ line: 1, column: 1 });
  });
});
