import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
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
    const r = runLocalSh(
      opsToScript([{ op: 'write', path: dest, content: Buffer.from("it's $HOME `x`\n"), mode: '0640' }]),
    );
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
    const r = runLocalSh(
      opsToScript([
        { op: 'write', path: fresh, content: Buffer.from('a') },
        { op: 'write', path: old, content: Buffer.from('b') },
      ]),
    );
    expect(r.code).toBe(0);
    expect(mode(fresh)).toBe('0644');
    expect(mode(old)).toBe('0600');
    expect(readFileSync(old, 'utf8')).toBe('b');
  });

  it('a failing validator leaves the old file byte for byte and reports its output', () => {
    const dir = tempTree({ 'haproxy.cfg': 'good config\n' });
    const dest = join(dir, 'haproxy.cfg');
    const r = runLocalSh(
      opsToScript([
        {
          op: 'write',
          path: dest,
          content: Buffer.from('broken\n'),
          validate: 'grep -q good {path} || { echo "line 1: parse error" >&2; exit 1; }',
        },
      ]),
    );
    expect(r.code).toBe(VALIDATION_FAILED_EXIT);
    expect(r.stderr).toContain('line 1: parse error');
    expect(readFileSync(dest, 'utf8')).toBe('good config\n');
    expect(readdirSync(dir)).toEqual(['haproxy.cfg']);
  });

  it('a passing validator sees the new content at {path}', () => {
    const dir = tempTree();
    const dest = join(dir, 'x.conf');
    const r = runLocalSh(
      opsToScript([{ op: 'write', path: dest, content: Buffer.from('good\n'), validate: 'grep -q good {path}' }]),
    );
    expect(r.code).toBe(0);
    expect(readFileSync(dest, 'utf8')).toBe('good\n');
  });

  it('binary and empty content survive the trip', () => {
    const dir = tempTree();
    const bin = Buffer.from([0, 1, 2, 255, 254, 10, 13, 0]);
    const r = runLocalSh(
      opsToScript([
        { op: 'write', path: join(dir, 'bin'), content: bin },
        { op: 'write', path: join(dir, 'empty'), content: Buffer.alloc(0) },
      ]),
    );
    expect(r.code).toBe(0);
    expect(readFileSync(join(dir, 'bin')).equals(bin)).toBe(true);
    expect(readFileSync(join(dir, 'empty')).length).toBe(0);
  });

  it('mkdir, attributes, symlink and remove', () => {
    const dir = tempTree({ 'gone/file': 'x', f: 'y' });
    const r = runLocalSh(
      opsToScript([
        { op: 'mkdir', path: join(dir, 'a/b'), mode: '0750' },
        { op: 'attributes', path: join(dir, 'f'), mode: '0600' },
        { op: 'symlink', path: join(dir, 'link'), target: '/etc/hostname' },
        { op: 'symlink', path: join(dir, 'link'), target: '/etc/hosts' },
        { op: 'remove', path: join(dir, 'gone') },
      ]),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(mode(join(dir, 'a/b'))).toBe('0750');
    expect(mode(join(dir, 'f'))).toBe('0600');
    expect(lstatSync(join(dir, 'link')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(dir, 'link'))).toBe('/etc/hosts');
    expect(existsSync(join(dir, 'gone'))).toBe(false);
  });

  it('stops at the first failing op', () => {
    const dir = tempTree();
    const r = runLocalSh(
      opsToScript([
        { op: 'exec', command: raw('false') },
        { op: 'mkdir', path: join(dir, 'never') },
      ]),
    );
    expect(r.code).not.toBe(0);
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });

  it('an exec op cannot swallow the rest of the script from stdin', () => {
    const dir = tempTree();
    mkdirSync(join(dir, 'd'));
    const r = runLocalSh(
      opsToScript([
        { op: 'exec', command: raw('cat > /dev/null') },
        { op: 'exec', command: sh`touch ${join(dir, 'd', 'after')}` },
      ]),
    );
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

const asRoot = process.getuid?.() === 0;
const NOBODY = 65534;

describe('ops compiled to shell: symbolic links and hostile names', () => {
  it('a mode change through a symbolic link is refused, and what it points to is left as it was', () => {
    const dir = tempTree();
    const real = join(dir, 'real');
    mkdirSync(real);
    chmodSync(real, 0o755);
    symlinkSync(real, join(dir, 'link'));
    for (const op of [
      { op: 'attributes' as const, path: join(dir, 'link'), mode: '0700' },
      { op: 'mkdir' as const, path: join(dir, 'link'), mode: '0700' },
    ]) {
      const r = runLocalSh(opsToScript([op]));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/refusing to change the mode of .*link: it is a symbolic link/);
      expect(mode(real)).toBe('0755');
    }
  });

  it.runIf(asRoot)('ownership changes the link itself, never what it points to (chown -h)', () => {
    const dir = tempTree();
    const real = join(dir, 'real');
    mkdirSync(real);
    symlinkSync(real, join(dir, 'link'));
    const r = runLocalSh(opsToScript([{ op: 'attributes', path: join(dir, 'link'), owner: 'nobody' }]));
    expect(r.code, r.stderr).toBe(0);
    expect(lstatSync(join(dir, 'link')).uid).toBe(NOBODY);
    expect(statSync(real).uid).toBe(0);
  });

  it.runIf(asRoot)("a user's ~/.ssh linked to root's directory is not handed to the user", () => {
    const dir = tempTree({ 'root-ssh/authorized_keys': 'root key\n' });
    const rootSsh = join(dir, 'root-ssh');
    chmodSync(rootSsh, 0o700);
    mkdirSync(join(dir, 'home'));
    symlinkSync(rootSsh, join(dir, 'home/.ssh'));
    // The user module's ops for the keys: ~/.ssh, then the file in it.
    const r = runLocalSh(
      opsToScript([
        { op: 'mkdir', path: join(dir, 'home/.ssh'), mode: '0700', owner: 'nobody' },
        {
          op: 'write',
          path: join(dir, 'home/.ssh/authorized_keys'),
          content: Buffer.from('user key\n'),
          mode: '0600',
          owner: 'nobody',
        },
      ]),
    );
    expect(r.code).toBe(1);
    expect(statSync(rootSsh).uid).toBe(0);
    expect(mode(rootSsh)).toBe('0700');
    expect(readFileSync(join(rootSsh, 'authorized_keys'), 'utf8')).toBe('root key\n');
  });

  it('names and link targets that start with "-" are never read as options', () => {
    const dir = tempTree();
    const d = join(dir, '-rf');
    const r = runLocalSh(
      opsToScript([
        { op: 'mkdir', path: d, mode: '0750' },
        { op: 'write', path: join(d, '-n'), content: Buffer.from('x\n'), mode: '0600' },
        { op: 'symlink', path: join(d, '-link'), target: '-n' },
        { op: 'attributes', path: join(d, '-n'), mode: '0640' },
        { op: 'lock', path: join(d, '-lock'), owner: '--help [-v]', force: false },
        { op: 'unlock', path: join(d, '-lock'), token: '-v' },
      ]),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(mode(d)).toBe('0750');
    expect(readlinkSync(join(d, '-link'))).toBe('-n');
    expect(readFileSync(join(d, '-link'), 'utf8')).toBe('x\n');
    expect(mode(join(d, '-n'))).toBe('0640');
    expect(existsSync(join(d, '-lock'))).toBe(false);
    expect(runLocalSh(opsToScript([{ op: 'remove', path: d }])).code).toBe(0);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('paths full of shell syntax are used literally and run nothing', () => {
    const dir = tempTree();
    // Were anything of it run, it would create kanka-pwned in the working directory (or in dir).
    const name = `a b'c"$(touch kanka-pwned)\`touch kanka-pwned\`;*`;
    const p = join(dir, name);
    const r = runLocalSh(
      opsToScript([
        { op: 'mkdir', path: p, mode: '0700' },
        { op: 'write', path: join(p, 'f'), content: Buffer.from('ok'), validate: 'grep -q ok {path}' },
        { op: 'symlink', path: join(p, 'l'), target: '$(touch kanka-pwned)' },
        { op: 'append', path: join(p, 'log'), line: '$(id) `id`' },
        { op: 'exec', command: sh`test -f ${join(p, 'f')}`, cwd: p },
      ]),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(dir)).toEqual([name]);
    expect(existsSync('kanka-pwned') || existsSync(join(p, 'kanka-pwned'))).toBe(false);
    expect(readlinkSync(join(p, 'l'))).toBe('$(touch kanka-pwned)');
    expect(readFileSync(join(p, 'f'), 'utf8')).toBe('ok');
    expect(readFileSync(join(p, 'log'), 'utf8')).toBe('$(id) `id`\n');
  });

  it('a role command ending in a comment does not swallow the rest of the script', () => {
    const dir = tempTree();
    const r = runLocalSh(
      opsToScript([
        { op: 'exec', command: raw('true # a comment') },
        { op: 'mkdir', path: join(dir, 'after') },
      ]),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(dir, 'after'))).toBe(true);
  });
});
