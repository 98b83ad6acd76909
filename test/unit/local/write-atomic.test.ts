import {
  chmodSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeAtomic } from '../../../src/local/write-atomic.js';
import { tempTree } from '../../support/tmp.js';

describe('writeAtomic', () => {
  it('replaces the content keeping the mode; a new file gets the given mode; no temporary file is left', () => {
    const dir = tempTree({ 'a.yml': 'old\n' });
    chmodSync(join(dir, 'a.yml'), 0o640);
    writeAtomic(join(dir, 'a.yml'), 'new\n');
    expect(readFileSync(join(dir, 'a.yml'), 'utf8')).toBe('new\n');
    expect(statSync(join(dir, 'a.yml')).mode & 0o777).toBe(0o640);
    writeAtomic(join(dir, 'b.yml'), 'b\n', { mode: 0o600 });
    expect(statSync(join(dir, 'b.yml')).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).sort()).toEqual(['a.yml', 'b.yml']);
  });

  it('writes through a symlink (also a chain of them) to its target; the links stay links', () => {
    const dir = tempTree({ 'real/inv.yml': 'old\n' });
    symlinkSync('real/inv.yml', join(dir, 'link1.yml'));
    symlinkSync('link1.yml', join(dir, 'link2.yml'));
    writeAtomic(join(dir, 'link2.yml'), 'new\n');
    expect(lstatSync(join(dir, 'link2.yml')).isSymbolicLink()).toBe(true);
    expect(lstatSync(join(dir, 'link1.yml')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(dir, 'real/inv.yml'), 'utf8')).toBe('new\n');
    expect(readdirSync(join(dir, 'real'))).toEqual(['inv.yml']);
  });

  it('with replaceLink, a link at the target is replaced by the file, and what it pointed to is untouched', () => {
    const dir = tempTree({ 'victim.txt': 'keep\n' });
    symlinkSync('victim.txt', join(dir, 'cache'));
    writeAtomic(join(dir, 'cache'), 'data', { replaceLink: true, forceMode: 0o600 });
    expect(lstatSync(join(dir, 'cache')).isSymbolicLink()).toBe(false);
    expect(readFileSync(join(dir, 'cache'), 'utf8')).toBe('data');
    expect(statSync(join(dir, 'cache')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'victim.txt'), 'utf8')).toBe('keep\n');
  });

  it('on failure the target is untouched and the temporary file is removed', () => {
    const dir = tempTree({ 'keep.txt': 'x' });
    mkdirSync(join(dir, 'target'));
    writeFileSync(join(dir, 'target/inside'), 'y');
    // Renaming a file over a non-empty directory fails.
    expect(() => writeAtomic(join(dir, 'target'), 'new')).toThrow();
    expect(readdirSync(dir).sort()).toEqual(['keep.txt', 'target']);
    // exclusive: an existing target is refused, nothing left behind.
    expect(() => writeAtomic(join(dir, 'keep.txt'), 'new', { exclusive: true })).toThrow(/EEXIST/);
    expect(readFileSync(join(dir, 'keep.txt'), 'utf8')).toBe('x');
    expect(readdirSync(dir).sort()).toEqual(['keep.txt', 'target']);
  });
});
