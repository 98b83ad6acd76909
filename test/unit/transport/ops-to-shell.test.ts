import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { raw, sh } from '../../../src/shell/command.js';
import { opsToScript, VALIDATION_FAILED_EXIT } from '../../../src/transport/ops-to-shell.js';
import { runLocalSh } from '../../support/local-sh.js';
import { tempTree } from '../../support/tmp.js';

/** The compiled shell really runs here (with the local sh), on a temporary tree. */
const mode = (p: string) => (statSync(p).mode & 0o7777).toString(8).padStart(4, '0');

describe('ops compiled to shell', () => {
  it('writes a new file atomically with the given mode and leaves no temporary file', () => {
    const dir = tempTree();
    const dest = join(dir, 'app.conf');
    const r = runLocalSh(opsToScript([{ op: 'write', path: dest, content: Buffer.from("it's $HOME `x`\n"), mode: '0640' }]));
    expect(r.code).toBe(0);
    expect(readFileSync(dest, 'utf8')).toBe("it's $HOME `x`\n");
    expect(mode(dest)).toBe('0640');
    expect(readdirSync(dir)).toEqual(['app.conf']);
  });

  it('a new file without a mode gets 0644; a replaced file keeps its mode', () => {
    const dir = tempTree({ 'old.conf': 'old' });
    const fresh = join(dir, 'new.conf');
    const old = join(dir, 'old.conf');
    runLocalSh(`chmod 0600 '${old}'`);
    const r = runLocalSh(opsToScript([
      { op: 'write', path: fresh, content: Buffer.from('a') },
      { op: 'write', path: old, content: Buffer.from('b') },
    ]));
    expect(r.code).toBe(0);
    expect(mode(fresh)).toBe('0644');
    expect(mode(old)).toBe('0600');
    expect(readFileSync(old, 'utf8')).toBe('b');
  });

  it('a failing validator leaves the old file byte for byte and reports its output', () => {
    const dir = tempTree({ 'haproxy.cfg': 'good config\n' });
    const dest = join(dir, 'haproxy.cfg');
    const r = runLocalSh(opsToScript([
      { op: 'write', path: dest, content: Buffer.from('broken\n'), validate: 'grep -q good {path} || { echo "line 1: parse error" >&2; exit 1; }' },
    ]));
    expect(r.code).toBe(VALIDATION_FAILED_EXIT);
    expect(r.stderr).toContain('line 1: parse error');
    expect(readFileSync(dest, 'utf8')).toBe('good config\n');
    expect(readdirSync(dir)).toEqual(['haproxy.cfg']);
  });

  it('a passing validator sees the new content at {path}', () => {
    const dir = tempTree();
    const dest = join(dir, 'x.conf');
    const r = runLocalSh(opsToScript([{ op: 'write', path: dest, content: Buffer.from('good\n'), validate: 'grep -q good {path}' }]));
    expect(r.code).toBe(0);
    expect(readFileSync(dest, 'utf8')).toBe('good\n');
  });

  it('binary and empty content survive the trip', () => {
    const dir = tempTree();
    const bin = Buffer.from([0, 1, 2, 255, 254, 10, 13, 0]);
    const r = runLocalSh(opsToScript([
      { op: 'write', path: join(dir, 'bin'), content: bin },
      { op: 'write', path: join(dir, 'empty'), content: Buffer.alloc(0) },
    ]));
    expect(r.code).toBe(0);
    expect(readFileSync(join(dir, 'bin')).equals(bin)).toBe(true);
    expect(readFileSync(join(dir, 'empty')).length).toBe(0);
  });

  it('mkdir, attributes, symlink and remove', () => {
    const dir = tempTree({ 'gone/file': 'x', 'f': 'y' });
    const r = runLocalSh(opsToScript([
      { op: 'mkdir', path: join(dir, 'a/b'), mode: '0750' },
      { op: 'attributes', path: join(dir, 'f'), mode: '0600' },
      { op: 'symlink', path: join(dir, 'link'), target: '/etc/hostname' },
      { op: 'symlink', path: join(dir, 'link'), target: '/etc/hosts' },
      { op: 'remove', path: join(dir, 'gone') },
    ]));
    expect(r.code, r.stderr).toBe(0);
    expect(mode(join(dir, 'a/b'))).toBe('0750');
    expect(mode(join(dir, 'f'))).toBe('0600');
    expect(lstatSync(join(dir, 'link')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(dir, 'link'))).toBe('/etc/hosts');
    expect(existsSync(join(dir, 'gone'))).toBe(false);
  });

  it('stops at the first failing op', () => {
    const dir = tempTree();
    const r = runLocalSh(opsToScript([
      { op: 'exec', command: raw('false') },
      { op: 'mkdir', path: join(dir, 'never') },
    ]));
    expect(r.code).not.toBe(0);
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });

  it('an exec op cannot swallow the rest of the script from stdin', () => {
    const dir = tempTree();
    mkdirSync(join(dir, 'd'));
    const r = runLocalSh(opsToScript([
      { op: 'exec', command: raw('cat > /dev/null') },
      { op: 'exec', command: sh`touch ${join(dir, 'd', 'after')}` },
    ]));
    expect(r.code).toBe(0);
    expect(existsSync(join(dir, 'd', 'after'))).toBe(true);
  });

  it('writing into a missing directory fails without creating it', () => {
    const dir = tempTree();
    const r = runLocalSh(opsToScript([{ op: 'write', path: join(dir, 'missing/x'), content: Buffer.from('x') }]));
    expect(r.code).not.toBe(0);
    expect(existsSync(join(dir, 'missing'))).toBe(false);
    writeFileSync(join(dir, 'ok'), '');
  });
});
