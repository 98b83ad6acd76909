import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Command, CommanderError } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { registerVaultCommand, vaultCommand, type VaultOptions } from '../../../src/cli/commands/vault.js';
import { UsageError } from '../../../src/diagnostics/usage-error.js';
import type { Io } from '../../../src/cli/io.js';
import { ConfigError } from '../../../src/diagnostics/diagnostic.js';
import { decryptVault, encryptVault, isVaultText } from '../../../src/secrets/vault-format.js';
import { tempTree } from '../../support/tmp.js';

interface Captured {
  io: Io;
  out: () => string;
  err: () => string;
}

function capture(cwd: string): Captured {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const io: Io = {
    stdout,
    stderr,
    stdin: new PassThrough(),
    stdoutIsTTY: false,
    stderrIsTTY: false,
    stdinIsTTY: false,
    cwd,
  };
  return { io, out: () => out, err: () => err };
}

const PLAIN = 'db_password: s3cret-db-pw\nmail:\n  api_key: mail-key-42\n';

function envWith(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env['PATH'] ?? '/usr/bin:/bin', KANKA_VAULT_PASSWORD: 'pw', ...extra };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('vault encrypt / view / decrypt', () => {
  it('encrypts in place (0600), views, decrypts back with a warning', async () => {
    const dir = tempTree({ 'secrets.yml': PLAIN });
    const file = join(dir, 'secrets.yml');
    const opts: VaultOptions = { env: envWith({}) };

    const enc = capture(dir);
    expect(await vaultCommand('encrypt', 'secrets.yml', opts, enc.io)).toBe(0);
    const vault = readFileSync(file, 'utf8');
    expect(vault.startsWith('$ANSIBLE_VAULT;1.1;AES256\n')).toBe(true);
    expect(vault).not.toContain('s3cret');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(decryptVault(vault, 'pw', file).toString()).toBe(PLAIN);
    expect(enc.out()).toBe('encrypted secrets.yml\n');
    expect(enc.out() + enc.err()).not.toContain('s3cret');

    const view = capture(dir);
    expect(await vaultCommand('view', 'secrets.yml', opts, view.io)).toBe(0);
    expect(view.out()).toBe(PLAIN);
    expect(readFileSync(file, 'utf8')).toBe(vault);

    const dec = capture(dir);
    expect(await vaultCommand('decrypt', 'secrets.yml', opts, dec.io)).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(PLAIN);
    expect(dec.err()).toMatch(/warning: secrets\.yml is now PLAINTEXT/);
    expect(dec.err()).not.toContain('s3cret');
  });

  it('uses --vault-password-file before the environment', async () => {
    const dir = tempTree({ 'v.yml': encryptVault(PLAIN, 'from-file'), 'pw.txt': 'from-file\n' });
    const c = capture(dir);
    expect(
      await vaultCommand(
        'view',
        'v.yml',
        { passwordFile: 'pw.txt', env: envWith({ KANKA_VAULT_PASSWORD: 'wrong' }) },
        c.io,
      ),
    ).toBe(0);
    expect(c.out()).toBe(PLAIN);
  });

  it('refuses to encrypt twice or decrypt plaintext, and leaves the file alone', async () => {
    const dir = tempTree({ 'v.yml': encryptVault(PLAIN, 'pw'), 'p.yml': PLAIN });
    const before = readFileSync(join(dir, 'v.yml'), 'utf8');
    const again = await rejection(vaultCommand('encrypt', 'v.yml', { env: envWith({}) }, capture(dir).io));
    expect(again).toBeInstanceOf(UsageError);
    expect((again as Error).message).toMatch(/already encrypted/);
    expect(readFileSync(join(dir, 'v.yml'), 'utf8')).toBe(before);
    const plain = await rejection(vaultCommand('decrypt', 'p.yml', { env: envWith({}) }, capture(dir).io));
    expect((plain as Error).message).toMatch(/is not encrypted/);
    expect(readFileSync(join(dir, 'p.yml'), 'utf8')).toBe(PLAIN);
  });

  it('wrong or missing password: ConfigError, file unchanged, no plaintext anywhere', async () => {
    const dir = tempTree({ 'v.yml': encryptVault(PLAIN, 'pw') });
    const before = readFileSync(join(dir, 'v.yml'), 'utf8');
    const c = capture(dir);
    const wrong = await rejection(
      vaultCommand('decrypt', 'v.yml', { env: envWith({ KANKA_VAULT_PASSWORD: 'nope' }) }, c.io),
    );
    expect(wrong).toBeInstanceOf(ConfigError);
    expect((wrong as Error).message).toMatch(/^v\.yml: wrong vault password \(HMAC mismatch\)/);
    expect((wrong as Error).message).not.toContain('s3cret');
    expect(readFileSync(join(dir, 'v.yml'), 'utf8')).toBe(before);
    const none = await rejection(vaultCommand('view', 'v.yml', { env: { PATH: '/usr/bin:/bin' } }, c.io));
    expect((none as Error).message).toMatch(/no vault password given\n {2}hint: set KANKA_VAULT_PASSWORD/);
    expect(c.out() + c.err()).toBe('');
  });
});

describe('vault edit / create', () => {
  /** An editor script; it records the temp file path, its mode and its directory's mode in `log`. */
  function editor(dir: string, name: string, body: string): string {
    const script = join(dir, name);
    writeFileSync(
      script,
      `#!/bin/sh\necho "$1" >> "${join(dir, 'editor.log')}"\nstat -c '%a' "$1" "$(dirname "$1")" >> "${join(dir, 'editor.log')}"\n${body}\n`,
    );
    chmodSync(script, 0o755);
    return script;
  }
  const log = (dir: string) => readFileSync(join(dir, 'editor.log'), 'utf8').trim().split('\n');

  it('re-encrypts a changed file; the private temp file is gone afterwards', async () => {
    const dir = tempTree({ 'v.yml': encryptVault(PLAIN, 'pw') });
    const ed = editor(dir, 'ed.sh', `printf 'redis_password: r3dis-pw\\n' >> "$1"`);
    const c = capture(dir);
    expect(await vaultCommand('edit', 'v.yml', { env: envWith({ EDITOR: ed }) }, c.io)).toBe(0);
    const after = readFileSync(join(dir, 'v.yml'), 'utf8');
    expect(isVaultText(after)).toBe(true);
    expect(decryptVault(after, 'pw', 'v.yml').toString()).toBe(`${PLAIN}redis_password: r3dis-pw\n`);
    const [tmp = '', fileMode, dirMode] = log(dir);
    expect(fileMode).toBe('600');
    expect(dirMode).toBe('700');
    expect(tmp.startsWith(dir)).toBe(false);
    expect(existsSync(tmp)).toBe(false);
    expect(c.out()).toMatch(/saved v\.yml/);
    expect(c.out() + c.err()).not.toContain('s3cret');
  });

  it('$VISUAL wins over $EDITOR; editor commands with arguments work', async () => {
    const dir = tempTree({ 'v.yml': encryptVault(PLAIN, 'pw') });
    const visual = join(dir, 'visual.sh');
    // Called as: visual.sh --wait <file>
    writeFileSync(visual, `#!/bin/sh\n[ "$1" = --wait ] || exit 9\nprintf 'from: visual\\n' > "$2"\n`);
    chmodSync(visual, 0o755);
    const ed = editor(dir, 'ed.sh', 'exit 7');
    expect(
      await vaultCommand(
        'edit',
        'v.yml',
        { env: envWith({ VISUAL: `${visual} --wait`, EDITOR: ed }) },
        capture(dir).io,
      ),
    ).toBe(0);
    expect(decryptVault(readFileSync(join(dir, 'v.yml')), 'pw', 'v.yml').toString()).toBe('from: visual\n');
    expect(existsSync(join(dir, 'editor.log'))).toBe(false); // $EDITOR never ran
  });

  it('unchanged content: no rewrite (same bytes, same mtime)', async () => {
    const dir = tempTree({ 'v.yml': encryptVault(PLAIN, 'pw') });
    const file = join(dir, 'v.yml');
    const before = { bytes: readFileSync(file, 'utf8'), mtime: statSync(file).mtimeMs, ino: statSync(file).ino };
    await new Promise((r) => setTimeout(r, 20));
    const c = capture(dir);
    expect(
      await vaultCommand('edit', 'v.yml', { env: envWith({ EDITOR: editor(dir, 'noop.sh', 'exit 0') }) }, c.io),
    ).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(before.bytes);
    expect(statSync(file).mtimeMs).toBe(before.mtime);
    expect(statSync(file).ino).toBe(before.ino);
    expect(c.err()).toMatch(/no changes/);
    expect(existsSync(log(dir)[0] ?? '')).toBe(false);
  });

  it('content that is not a YAML mapping, or a failing editor: original kept, exit 1, temp removed', async () => {
    const dir = tempTree({ 'v.yml': encryptVault(PLAIN, 'pw') });
    const file = join(dir, 'v.yml');
    const before = readFileSync(file, 'utf8');
    for (const [name, body, why] of [
      ['list.sh', `printf -- '- s3cret-a\\n- s3cret-b\\n' > "$1"`, /not a YAML mapping/],
      ['bad.sh', `printf 'a: [s3cret-unclosed\\n' > "$1"`, /not valid YAML/],
      ['empty.sh', `: > "$1"`, /is empty/],
      ['fail.sh', `printf 'x: y\\n' > "$1"; exit 3`, /exited with status 3/],
    ] as const) {
      const c = capture(dir);
      expect(await vaultCommand('edit', 'v.yml', { env: envWith({ EDITOR: editor(dir, name, body) }) }, c.io)).toBe(1);
      expect(c.err()).toMatch(why);
      expect(c.err()).toMatch(/v\.yml was (NOT|not) changed/);
      expect(c.err()).not.toContain('s3cret');
      expect(readFileSync(file, 'utf8')).toBe(before);
    }
    for (const line of log(dir)) if (line.startsWith('/')) expect(existsSync(line)).toBe(false);
  });

  it('edit keeps the vault id of a 1.2 file', async () => {
    const dir = tempTree({ 'v.yml': encryptVault(PLAIN, 'pw', { vaultId: 'prod' }) });
    expect(
      await vaultCommand(
        'edit',
        'v.yml',
        { env: envWith({ EDITOR: editor(dir, 'ed.sh', `printf 'b: c\\n' >> "$1"`) }) },
        capture(dir).io,
      ),
    ).toBe(0);
    expect(readFileSync(join(dir, 'v.yml'), 'utf8').split('\n')[0]).toBe('$ANSIBLE_VAULT;1.2;AES256;prod');
  });

  it('create: new encrypted file; refuses an existing one; nothing written when left empty', async () => {
    const dir = tempTree({ 'exists.yml': 'a: b\n' });
    const ed = editor(dir, 'ed.sh', `printf 'api_token: t0ken-value\\n' > "$1"`);
    const c = capture(dir);
    expect(await vaultCommand('create', 'new.yml', { env: envWith({ EDITOR: ed }) }, c.io)).toBe(0);
    expect(decryptVault(readFileSync(join(dir, 'new.yml')), 'pw', 'new.yml').toString()).toBe(
      'api_token: t0ken-value\n',
    );
    expect(statSync(join(dir, 'new.yml')).mode & 0o777).toBe(0o600);
    expect(c.out()).toMatch(/created new\.yml/);

    expect(
      await rejection(vaultCommand('create', 'exists.yml', { env: envWith({ EDITOR: ed }) }, capture(dir).io)),
    ).toBeInstanceOf(UsageError);
    expect(readFileSync(join(dir, 'exists.yml'), 'utf8')).toBe('a: b\n');

    const e = capture(dir);
    expect(
      await vaultCommand('create', 'blank.yml', { env: envWith({ EDITOR: editor(dir, 'noop.sh', 'exit 0') }) }, e.io),
    ).toBe(0);
    expect(existsSync(join(dir, 'blank.yml'))).toBe(false);
    expect(e.err()).toMatch(/was not created/);
  });
});

describe('registerVaultCommand', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  function program(io: Io): { prog: Command; code: () => number | undefined; help: () => string } {
    let code: number | undefined;
    let help = '';
    const prog = new Command('kanka-infra')
      .exitOverride()
      .configureOutput({ writeOut: (s) => (help += s), writeErr: (s) => (help += s) });
    registerVaultCommand(prog, io, (c) => (code = c));
    return { prog, code: () => code, help: () => help };
  }

  it('wires `vault <action> <file> --vault-password-file`', async () => {
    vi.stubEnv('KANKA_VAULT_PASSWORD', 'wrong');
    vi.stubEnv('KANKA_VAULT_PASSWORD_FILE', '');
    const dir = tempTree({ 'v.yml': encryptVault(PLAIN, 'pw'), pw: 'pw\n' });
    const c = capture(dir);
    const p = program(c.io);
    await p.prog.parseAsync(['vault', 'view', 'v.yml', '--vault-password-file', 'pw'], { from: 'user' });
    expect(p.code()).toBe(0);
    expect(c.out()).toBe(PLAIN);
  });

  it('rejects an unknown action; help lists actions and examples', async () => {
    const c = capture(tempTree());
    const p = program(c.io);
    const err = await rejection(p.prog.parseAsync(['vault', 'rekeys', 'v.yml'], { from: 'user' }));
    expect(err).toBeInstanceOf(CommanderError);
    expect(p.help()).toMatch(/Allowed choices are encrypt, decrypt, view, edit, create, rekey, encrypt-string/);
    const h = program(c.io);
    await rejection(h.prog.parseAsync(['vault', '--help'], { from: 'user' }));
    expect(h.help()).toMatch(/--vault-password-file <file>/);
    expect(h.help()).toMatch(/Examples:/);
    expect(h.help()).toMatch(/KANKA_VAULT_PASSWORD/);
  });
});
