import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { vaultCommand } from '../../../src/cli/commands/vault.js';
import { UsageError } from '../../../src/diagnostics/usage-error.js';
import { decryptVault } from '../../../src/secrets/vault-format.js';
import { answeringIo } from '../../support/answering-io.js';
import { cli } from '../../support/cli.js';
import { stubVaultEnv } from '../../support/vault-env.js';
import { tempTree } from '../../support/tmp.js';

const FIXTURES = join(import.meta.dirname, '..', 'secrets', 'fixtures');
const FIXTURE_PLAIN = 'db_password: s3cret-from-ansible\nmail:\n  api_key: mail-k3y\n';
const PROD_PW = 'prod-fixture-password';

/** A directory holding a copy of the ansible-vault fixture (vault ID prod) and its password file. */
function withFixture(extra: Record<string, string> = {}): string {
  const dir = tempTree(extra);
  copyFileSync(join(FIXTURES, 'prod.vault.yml'), join(dir, 'prod.vault.yml'));
  copyFileSync(join(FIXTURES, 'prod.vault-password'), join(dir, 'prod.pw'));
  return dir;
}

/** Runs the real ansible tools (ansible-core is one of the Debian packages the tests install). */
function ansible(cmd: string, args: string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ANSIBLE_LOCALHOST_WARNING: 'false', ANSIBLE_INVENTORY_UNPARSED_WARNING: 'false' },
  });
  if (r.error)
    throw new Error(
      `cannot run ${cmd} (${r.error.message}): ansible-core is installed by \`npm test\` (test/fleet/host-packages.ts), or: apt-get install ansible-core`,
    );
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

stubVaultEnv();

describe('--vault-id', () => {
  it('opens the file ansible-vault 2.14 encrypted with --vault-id prod@file', async () => {
    const dir = withFixture({ 'dev.pw': 'dev-password\n' });
    const run = await cli(
      ['vault', 'view', 'prod.vault.yml', '--vault-id', 'dev@dev.pw', '--vault-id', 'prod@prod.pw'],
      {
        cwd: dir,
      },
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(FIXTURE_PLAIN);
  });

  it('none of the passwords fits: exit 1 naming the labels tried, nothing printed', async () => {
    const dir = withFixture({ 'dev.pw': 'dev-password\n', 'other.pw': 'other\n' });
    const run = await cli(
      ['vault', 'view', 'prod.vault.yml', '--vault-id', 'dev@dev.pw', '--vault-password-file', 'other.pw'],
      {
        cwd: dir,
      },
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /prod\.vault\.yml: wrong vault password \(HMAC mismatch\) \(tried 2 passwords, vault IDs: dev, default\)/,
    );
    expect(run.stdout).toBe('');
  });

  it('label@prompt asks on the terminal, naming the label; not on a terminal: exit 1', async () => {
    const dir = withFixture();
    const t = answeringIo(dir, [PROD_PW]);
    expect(await vaultCommand('view', 'prod.vault.yml', { vaultIds: ['prod@prompt'], env: {} }, t.io)).toBe(0);
    expect(t.asked()).toEqual(['Vault password (prod): ']);
    expect(t.out()).toBe(FIXTURE_PLAIN);
    expect(t.err()).not.toContain(PROD_PW);
    const run = await cli(['vault', 'view', 'prod.vault.yml', '--vault-id', 'prod@prompt'], { cwd: dir, stdin: '' });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/--vault-id prod@prompt must be typed on a terminal/);
  });

  it('encrypting with several passwords needs --encrypt-vault-id; the label goes into a 1.2 header', async () => {
    const dir = tempTree({ 'a.yml': 'k: v\n', 'dev.pw': 'dev-pw\n', 'prod.pw': 'prod-pw\n' });
    const ids = ['--vault-id', 'dev@dev.pw', '--vault-id', 'prod@prod.pw'];
    const refused = await cli(['vault', 'encrypt', 'a.yml', ...ids], { cwd: dir });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /several vault passwords were given \(labels: dev, prod\): say which one encrypts with --encrypt-vault-id <label>/,
    );
    expect(readFileSync(join(dir, 'a.yml'), 'utf8')).toBe('k: v\n');
    const run = await cli(['vault', 'encrypt', 'a.yml', ...ids, '--encrypt-vault-id', 'prod'], { cwd: dir });
    expect(run.code).toBe(0);
    const text = readFileSync(join(dir, 'a.yml'), 'utf8');
    expect(text.split('\n')[0]).toBe('$ANSIBLE_VAULT;1.2;AES256;prod');
    expect(decryptVault(text, 'prod-pw', 'a.yml').toString()).toBe('k: v\n');
    const ours = ansible('ansible-vault', ['view', '--vault-id', 'prod@prod.pw', 'a.yml'], dir);
    expect(ours.stdout).toBe('k: v\n');
  });

  it('a failing password script: exit 1, the error names it', async () => {
    const dir = withFixture();
    writeFileSync(join(dir, 'pw.sh'), '#!/bin/sh\nexit 5\n');
    chmodSync(join(dir, 'pw.sh'), 0o755);
    const run = await cli(['vault', 'view', 'prod.vault.yml', '--vault-id', 'prod@pw.sh'], { cwd: dir });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /pw\.sh: the vault password script \(from --vault-id prod@pw\.sh\) failed \(exit status 5\)/,
    );
    expect(run.stdout).toBe('');
  });

  it('a password script: its output is the password (--vault-password-file and --vault-id alike)', async () => {
    const dir = withFixture();
    writeFileSync(join(dir, 'pw.sh'), `#!/bin/sh\necho ${PROD_PW}\n`);
    chmodSync(join(dir, 'pw.sh'), 0o755);
    for (const opt of [
      ['--vault-password-file', 'pw.sh'],
      ['--vault-id', 'prod@pw.sh'],
    ]) {
      const run = await cli(['vault', 'view', 'prod.vault.yml', ...opt], { cwd: dir });
      expect(run.code).toBe(0);
      expect(run.stdout).toBe(FIXTURE_PLAIN);
    }
  });
});

describe('vault rekey', () => {
  it('new password from a file: keeps vault ID prod, and ansible-vault opens the result with it', async () => {
    const dir = withFixture({ 'new.pw': 'brand-new-pw\n' });
    const run = await cli(
      ['vault', 'rekey', 'prod.vault.yml', '--vault-id', 'prod@prod.pw', '--new-vault-password-file', 'new.pw'],
      { cwd: dir },
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('rekeyed prod.vault.yml (vault ID prod)\n');
    const text = readFileSync(join(dir, 'prod.vault.yml'), 'utf8');
    expect(text.split('\n')[0]).toBe('$ANSIBLE_VAULT;1.2;AES256;prod');
    expect(() => decryptVault(text, PROD_PW, 'f')).toThrow(/wrong vault password/);
    const viewed = ansible('ansible-vault', ['view', '--vault-id', 'prod@new.pw', 'prod.vault.yml'], dir);
    expect(viewed.stderr).toBe('');
    expect(viewed.stdout).toBe(FIXTURE_PLAIN);
  });

  it('--new-vault-id label@file relabels; a bare --new-vault-id file keeps the label', async () => {
    const dir = withFixture({ 'new.pw': 'brand-new-pw\n' });
    const base = ['vault', 'rekey', 'prod.vault.yml', '--vault-password-file', 'prod.pw'];
    expect((await cli([...base, '--new-vault-id', 'new.pw'], { cwd: dir })).code).toBe(0);
    expect(readFileSync(join(dir, 'prod.vault.yml'), 'utf8').split('\n')[0]).toBe('$ANSIBLE_VAULT;1.2;AES256;prod');
    writeFileSync(join(dir, 'prod.pw'), 'brand-new-pw\n');
    expect((await cli([...base, '--new-vault-id', 'prod2@new.pw'], { cwd: dir })).code).toBe(0);
    expect(readFileSync(join(dir, 'prod.vault.yml'), 'utf8').split('\n')[0]).toBe('$ANSIBLE_VAULT;1.2;AES256;prod2');
    const viewed = ansible('ansible-vault', ['view', '--vault-id', 'prod2@new.pw', 'prod.vault.yml'], dir);
    expect(viewed.stdout).toBe(FIXTURE_PLAIN);
  });

  it('on a terminal the new password is asked twice; a mismatch changes nothing', async () => {
    const dir = withFixture();
    const before = readFileSync(join(dir, 'prod.vault.yml'), 'utf8');
    const differ = answeringIo(dir, ['one-pw', 'other-pw']);
    const err = await rejection(
      vaultCommand('rekey', 'prod.vault.yml', { passwordFile: 'prod.pw', env: {} }, differ.io),
    );
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toMatch(/the two passwords typed differ: nothing was changed/);
    expect(readFileSync(join(dir, 'prod.vault.yml'), 'utf8')).toBe(before);

    const t = answeringIo(dir, ['typed-new-pw', 'typed-new-pw']);
    expect(await vaultCommand('rekey', 'prod.vault.yml', { passwordFile: 'prod.pw', env: {} }, t.io)).toBe(0);
    expect(t.asked()).toEqual(['New vault password (prod): ', 'Confirm new vault password (prod): ']);
    expect(t.out() + t.err()).not.toContain('typed-new-pw');
    expect(decryptVault(readFileSync(join(dir, 'prod.vault.yml')), 'typed-new-pw', 'f').toString()).toBe(FIXTURE_PLAIN);
  });

  it('no new password and no terminal, or a wrong old one: exit 1, file unchanged', async () => {
    const dir = withFixture({ 'new.pw': 'n\n', 'bad.pw': 'bad\n' });
    const before = readFileSync(join(dir, 'prod.vault.yml'), 'utf8');
    const noNew = await cli(['vault', 'rekey', 'prod.vault.yml', '--vault-password-file', 'prod.pw'], {
      cwd: dir,
      stdin: '',
    });
    expect(noNew.code).toBe(1);
    expect(noNew.stderr).toMatch(/the new vault password must be typed on a terminal/);
    const badOld = await cli(
      ['vault', 'rekey', 'prod.vault.yml', '--vault-password-file', 'bad.pw', '--new-vault-password-file', 'new.pw'],
      { cwd: dir },
    );
    expect(badOld.code).toBe(1);
    expect(badOld.stderr).toMatch(/wrong vault password/);
    expect(readFileSync(join(dir, 'prod.vault.yml'), 'utf8')).toBe(before);
  });
});

describe('vault encrypt-string', () => {
  /** The vault text inside a printed `!vault |` block, read as YAML reads it. */
  function vaultTextOf(block: string, key: string): string {
    const doc = parseDocument(block);
    expect(doc.errors).toEqual([]);
    const node = doc.get(key, true) as { tag?: string; value?: unknown };
    expect(node.tag).toBe('!vault');
    return String(node.value);
  }

  it('prints a named !vault block that ansible reads as the value; the value is never printed', async () => {
    const dir = tempTree({ 'prod.pw': 'prod-pw\n' });
    const run = await cli(
      ['vault', 'encrypt-string', '--vault-id', 'prod@prod.pw', '--name', 'db_password', 'v4lue with spaces'],
      {
        cwd: dir,
      },
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^db_password: !vault \|\n {10}\$ANSIBLE_VAULT;1\.2;AES256;prod\n( {10}[0-9a-f]{1,80}\n)+$/,
    );
    expect(run.stdout + run.stderr).not.toContain('v4lue');
    expect(run.stderr).toBe('Encryption successful\n');
    expect(decryptVault(vaultTextOf(run.stdout, 'db_password'), 'prod-pw', 'f').toString()).toBe('v4lue with spaces');
    writeFileSync(join(dir, 'vars.yml'), `app_name: kanka\n${run.stdout}`);
    const shown = ansible(
      'ansible',
      ['localhost', '-m', 'debug', '-a', 'var=db_password', '-e', '@vars.yml', '--vault-id', 'prod@prod.pw'],
      dir,
    );
    expect(shown.stdout).toContain('"db_password": "v4lue with spaces"');
  });

  it('reads stdin as is with --stdin-name; encrypt_string is accepted too; no name: a bare block', async () => {
    const dir = tempTree({ pw: 'pw\n' });
    const run = await cli(['vault', 'encrypt_string', '--vault-password-file', 'pw', '--stdin-name', 'api_key'], {
      cwd: dir,
      stdin: 'from-stdin\n',
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^api_key: !vault \|\n {10}\$ANSIBLE_VAULT;1\.1;AES256\n/);
    expect(decryptVault(vaultTextOf(run.stdout, 'api_key'), 'pw', 'f').toString()).toBe('from-stdin\n');
    const bare = await cli(['vault', 'encrypt-string', '--vault-password-file', 'pw', 'x'], { cwd: dir });
    expect(bare.stdout).toMatch(/^!vault \|\n {10}\$ANSIBLE_VAULT;1\.1;AES256\n/);
  });

  it('on a terminal the value is asked without echo', async () => {
    const dir = tempTree({ pw: 'pw\n' });
    const t = answeringIo(dir, ['typed-s3cret']);
    expect(await vaultCommand('encrypt-string', undefined, { passwordFile: 'pw', name: 'k', env: {} }, t.io)).toBe(0);
    expect(t.asked()).toEqual(['Value to encrypt (not shown): ']);
    expect(t.out() + t.err()).not.toContain('typed-s3cret');
    expect(decryptVault(vaultTextOf(t.out(), 'k'), 'pw', 'f').toString()).toBe('typed-s3cret');
  });

  it('refuses an empty value, a key that needs quoting, and --stdin-name with a value', async () => {
    const dir = tempTree({ pw: 'pw\n' });
    const pw = ['--vault-password-file', 'pw'];
    for (const [args, why] of [
      [['encrypt-string', ...pw], /the value to encrypt is empty/],
      [['encrypt-string', ...pw, '--name', 'a key: x', 'v'], /--name "a key: x": use letters/],
      [['encrypt-string', ...pw, '--stdin-name', 'k', 'v'], /--stdin-name names a value read from stdin/],
    ] as const) {
      const run = await cli(['vault', ...args], { cwd: dir, stdin: '' });
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(why);
      expect(run.stdout).toBe('');
    }
  });
});

describe('vault actions that need a file', () => {
  it('say so', async () => {
    const run = await cli(['vault', 'view'], { cwd: tempTree() });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/`vault view` needs a file/);
  });
});
