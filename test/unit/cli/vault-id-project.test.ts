import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { encryptVault } from '../../../src/secrets/vault-format.js';
import { cli } from '../../support/cli.js';
import { projectWithSecrets, stubVaultEnv } from '../../support/vault-env.js';

/** A project whose secrets file has vault ID prod; its task reads `secrets.<name>`. */
function project(name: string): string {
  const dir = projectWithSecrets('', 'unused', {
    'inventory/test.secrets.yml': encryptVault('db_password: s3cret-db\n', 'prod-pw', { vaultId: 'prod' }),
    'roles/base/tasks.yml': `- name: env\n  copy: { dest: /etc/app.env, content: "PW={{ secrets.${name} }}\\n" }\n`,
  });
  writeFileSync(join(dir, 'prod.pw'), 'prod-pw\n');
  writeFileSync(join(dir, 'dev.pw'), 'dev-pw\n');
  return dir;
}

stubVaultEnv('from-the-environment');

describe('--vault-id on the project commands', () => {
  it('opens the secrets with the matching label (the environment is not used when --vault-id is given)', async () => {
    const ok = await cli(['validate', 'test', '--vault-id', 'dev@dev.pw', '--vault-id', 'prod@prod.pw'], {
      cwd: project('db_password'),
    });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).not.toMatch(/were not checked/);
    // The names were checked against the decrypted file: a typo is found.
    const typo = await cli(['validate', 'test', '--vault-id', 'prod@prod.pw'], { cwd: project('db_pasword') });
    expect(typo.code).toBe(1);
    expect(typo.stderr + typo.stdout).toMatch(/db_pasword/);
  });

  it('a wrong password names the labels tried; prompt is refused with what to do instead', async () => {
    const wrong = await cli(['validate', 'test', '--vault-id', 'dev@dev.pw'], { cwd: project('db_password') });
    expect(wrong.code).toBe(1);
    // Only the one given was tried (not also KANKA_VAULT_PASSWORD).
    expect(wrong.stderr).toMatch(/test\.secrets\.yml: wrong vault password \(HMAC mismatch\)\n/);
    const prompt = await cli(['plan', 'test', '--vault-id', 'prod@prompt'], { cwd: project('db_password') });
    expect(prompt.code).toBe(1);
    expect(prompt.stderr).toMatch(/--vault-id prod@prompt: this command reads passwords from files or scripts only/);
    expect(prompt.connected).toEqual([]);
  });

  it("the inventory's vault_password_file is never run: an executable one is refused", async () => {
    vi.stubEnv('KANKA_VAULT_PASSWORD', '');
    const dir = project('db_password');
    const inventory = join(dir, 'inventory', 'test.yml');
    writeFileSync(inventory, `vault_password_file: pw.sh\n${readFileSync(inventory, 'utf8')}`);
    writeFileSync(join(dir, 'inventory', 'pw.sh'), `#!/bin/sh\ntouch ${join(dir, 'ran')}\necho prod-pw\n`);
    chmodSync(join(dir, 'inventory', 'pw.sh'), 0o755);
    const r = await cli(['validate', 'test'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /pw\.sh: the vault password file \(from vault_password_file in the inventory\) is executable/,
    );
    expect(existsSync(join(dir, 'ran'))).toBe(false);
    // Named by the operator, the same script is run.
    const ok = await cli(['validate', 'test', '--vault-password-file', 'inventory/pw.sh'], { cwd: dir });
    expect(ok.code).toBe(0);
    expect(existsSync(join(dir, 'ran'))).toBe(true);
  });
});
