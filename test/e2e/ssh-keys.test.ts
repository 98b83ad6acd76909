import { execFileSync } from 'node:child_process';
import { copyFileSync, chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixtures, fleetOrSkip, inventoryVariant, kanka } from './support.js';

const { fleet, reason } = fleetOrSkip();
const playbook = join(fixtures, 'playbooks', 'foundation.yml');
const PASSPHRASE = 'e2e key passphrase';

// The fleet's login key is unencrypted: a copy, encrypted, is the key operators usually have.
describe.skipIf(!fleet)(
  `a passphrase-protected SSH key on the local fleet${reason ? ` (skipped: ${reason})` : ''}`,
  () => {
    it('logs in with the passphrase from KANKA_SSH_KEY_PASSPHRASE_FILE; without one, off a terminal: exit 1, before connecting', async () => {
      const inventory = inventoryVariant(fleet!);
      const dir = dirname(inventory);
      const key = join(dir, 'protected_key');
      copyFileSync(fleet?.sshKeyFile ?? '', key);
      chmodSync(key, 0o600);
      execFileSync('ssh-keygen', ['-q', '-p', '-P', '', '-N', PASSPHRASE, '-f', key], { stdio: 'ignore' });
      expect(readFileSync(key, 'utf8')).not.toBe(readFileSync(fleet?.sshKeyFile ?? '', 'utf8'));
      writeFileSync(inventory, readFileSync(inventory, 'utf8').replace(/key_file: .*/, `key_file: ${key}`));
      const passphraseFile = join(dir, 'key-passphrase');
      writeFileSync(passphraseFile, `${PASSPHRASE}\n`, { mode: 0o600 });

      const ok = await kanka(['plan', inventory, '--playbook', playbook, '--limit', 'backend1'], {
        env: { KANKA_SSH_KEY_PASSPHRASE_FILE: passphraseFile, SSH_AUTH_SOCK: '' },
      });
      expect([0, 2], ok.stderr + ok.stdout).toContain(ok.code);
      expect(ok.stdout).toMatch(/backend1\s+ok=\d+/);
      expect(ok.stdout + ok.stderr).not.toContain(PASSPHRASE);

      const none = await kanka(['plan', inventory, '--playbook', playbook, '--limit', 'backend1'], {
        env: { KANKA_SSH_KEY_PASSPHRASE_FILE: '', SSH_AUTH_SOCK: '' },
      });
      expect(none.code).toBe(1);
      expect(none.stderr).toContain(
        `the SSH key ${key} is protected by a passphrase: set KANKA_SSH_KEY_PASSPHRASE_FILE or run on a terminal, or use ssh.agent`,
      );
      expect(none.stdout).not.toMatch(/backend1\s+ok=/);

      writeFileSync(passphraseFile, 'not the passphrase\n');
      const wrong = await kanka(['plan', inventory, '--playbook', playbook, '--limit', 'backend1'], {
        env: { KANKA_SSH_KEY_PASSPHRASE_FILE: passphraseFile, SSH_AUTH_SOCK: '' },
      });
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toContain('wrong passphrase');
      expect(wrong.stderr).not.toContain('not the passphrase');
    });
  },
);
