import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/diagnostics/diagnostic.js';
import { isClientScript, readPasswordSource } from '../../../src/secrets/password-source.js';
import { tempTree } from '../../support/tmp.js';

function script(dir: string, name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('readPasswordSource', () => {
  it('a plain file: read, surrounding whitespace stripped (as ansible-vault does)', () => {
    const dir = tempTree({ pw: '  s3cret pw \r\n\n' });
    expect(readPasswordSource({ path: join(dir, 'pw'), shown: 'pw', from: '--vault-password-file' })).toBe('s3cret pw');
  });

  it('an executable file is run: its stdout without the line ends is the password', () => {
    const dir = tempTree();
    const path = script(dir, 'pw.sh', `printf ' from-script \\n'`);
    expect(readPasswordSource({ path, shown: 'pw.sh', from: '--vault-password-file' })).toBe(' from-script ');
  });

  it('a failing script: ConfigError naming it and its exit status', () => {
    const dir = tempTree();
    const path = script(dir, 'pw.sh', 'echo half-a-password; exit 3');
    expect(errorOf(() => readPasswordSource({ path, shown: 'pw.sh', from: '--vault-id prod@pw.sh' }))).toBe(
      'pw.sh: the vault password script (from --vault-id prod@pw.sh) failed (exit status 3)\n  hint: run it by hand to see why',
    );
    const silent = script(dir, 'silent.sh', 'exit 0');
    expect(errorOf(() => readPasswordSource({ path: silent, shown: 'silent.sh', from: 'x' }))).toMatch(
      /^silent\.sh: the vault password script \(from x\) printed no password/,
    );
  });

  it('an executable file that is not a script: a clear error, not the file read as a password', () => {
    const dir = tempTree({ 'pw.txt': 'just-a-password\n' });
    chmodSync(join(dir, 'pw.txt'), 0o755);
    expect(errorOf(() => readPasswordSource({ path: join(dir, 'pw.txt'), shown: 'pw.txt', from: 'x' }))).toMatch(
      /^pw\.txt: the vault password script \(from x\) (could not be run|failed).*\n {2}hint: /,
    );
  });

  it('a *-client script gets --vault-id <label>; exit 2 means it knows no such label', () => {
    const dir = tempTree();
    const body = `[ "$1" = --vault-id ] || exit 9\n[ "$2" = prod ] && { echo "pw-for-$2"; exit 0; }\nexit 2`;
    const path = script(dir, 'keyring-client.sh', body);
    expect(readPasswordSource({ path, shown: 'keyring-client.sh', from: 'x', label: 'prod' })).toBe('pw-for-prod');
    expect(errorOf(() => readPasswordSource({ path, shown: 'keyring-client.sh', from: 'x', label: 'dev' }))).toMatch(
      /^keyring-client\.sh: the vault password client script \(from x\) knows no password for vault ID "dev" \(exit status 2\)/,
    );
    // Not a client: no arguments.
    const plain = script(dir, 'plain.sh', '[ $# -eq 0 ] && echo no-args');
    expect(readPasswordSource({ path: plain, shown: 'plain.sh', from: 'x', label: 'prod' })).toBe('no-args');
  });

  it('isClientScript follows ansible: "-client" before the extension', () => {
    expect(isClientScript('/a/vault-client')).toBe(true);
    expect(isClientScript('/a/vault-client.py')).toBe(true);
    expect(isClientScript('/a/vault-client.d/pw')).toBe(false);
    expect(isClientScript('/a/client.sh')).toBe(false);
  });

  it('allowScript false (a file the project names): an executable one is refused, not run', () => {
    const dir = tempTree();
    const marker = join(dir, 'ran');
    const path = script(dir, 'pw.sh', `touch ${marker}; echo pw`);
    expect(
      errorOf(() =>
        readPasswordSource({ path, shown: 'pw.sh', from: 'vault_password_file in the inventory', allowScript: false }),
      ),
    ).toMatch(/^pw\.sh: the vault password file \(from vault_password_file in the inventory\) is executable/);
    expect(() => readPasswordSource({ path: marker, shown: 'ran', from: 'x' })).toThrow(/file not found/);
  });

  it('missing file or a directory: ConfigError saying so', () => {
    const dir = tempTree();
    expect(errorOf(() => readPasswordSource({ path: join(dir, 'nope'), shown: 'nope', from: 'x' }))).toMatch(
      /^nope: cannot read the vault password file \(from x\): file not found/,
    );
    expect(errorOf(() => readPasswordSource({ path: dir, shown: 'd', from: 'x' }))).toMatch(/is a directory/);
  });
});
