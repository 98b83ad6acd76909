import { describe, expect, it } from 'vitest';
import { loadProject } from '../../../src/config/load-project.js';
import { approvalKey } from '../../../src/engine/inputs-hash.js';
import { findInlineVaults } from '../../../src/secrets/inline-vault.js';
import { Secret } from '../../../src/secrets/secret.js';
import { projectDir, projectFiles } from '../../support/project.js';
import { inlineVaultBlock } from '../../support/vault-env.js';

/** A project whose only secret is an inline !vault value in the inventory, opened as the CLI does. */
function projectWithInlineSecret(value: string) {
  const block = inlineVaultBlock(value, 'pw', '    ');
  const inventory = (projectFiles()['inventory/test.yml'] ?? '').replace(
    'vars:\n',
    `vars:\n  db_password: !vault |\n${block}\n`,
  );
  const project = loadProject({ env: 'test', projectDir: projectDir({ 'inventory/test.yml': inventory }) });
  for (const slot of findInlineVaults(project)) slot.replace(new Secret(value));
  return project;
}

describe('the approval key of saved plans', () => {
  it('is derived from inline !vault values too: a plan file cannot be used to test guesses of them offline', () => {
    const a = approvalKey({}, projectWithInlineSecret('inline-s3cret-a'));
    const b = approvalKey({}, projectWithInlineSecret('inline-s3cret-b'));
    expect(a.equals(b)).toBe(false);
    expect(a.equals(approvalKey({}))).toBe(false);
    expect(a.equals(approvalKey({}, projectWithInlineSecret('inline-s3cret-a')))).toBe(true);
  });
});
