import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadProject } from '../../../src/config/load-project.js';
import { compile } from '../../../src/engine/compile.js';
import { allTasks } from '../../../src/engine/program.js';
import { standInSecrets } from '../../../src/secrets/stand-in.js';

/** The project's own site (inventory/prod.yml, playbooks/site.yml, roles/), as an operator runs it. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function selected(opts: { tags?: string[]; skipTags?: string[] }): Array<{ host: string; key: string }> {
  const project = loadProject({ env: 'prod', projectDir: ROOT });
  return compile(project, { ...opts, secrets: standInSecrets() }).flatMap((p) =>
    allTasks(p).map((t) => ({ host: p.host.name, key: t.key })),
  );
}

describe("the site's tags", () => {
  it('--tags nginx (the example of the main help) selects the nginx tasks of the backends and thumbor', () => {
    const keys = selected({ tags: ['nginx'] });
    expect(keys.length).toBeGreaterThan(0);
    expect(new Set(keys.map((k) => k.key.split('/')[0]))).toEqual(new Set(['nginx-php', 'thumbor']));
    expect(keys.map((k) => k.key)).toContain('nginx-php/nginx site');
    expect(keys.map((k) => k.key)).not.toContain('nginx-php/php-fpm running');
  });

  it('config, packages, tls and firewall each select tasks; a role name selects its whole role', () => {
    for (const tag of ['config', 'packages', 'tls', 'firewall'])
      expect(selected({ tags: [tag] }).length).toBeGreaterThan(0);
    expect(new Set(selected({ tags: ['firewall'] }).map((k) => k.key))).toEqual(
      new Set(['base/firewall rules', 'base/firewall loaded at boot']),
    );
    const project = loadProject({ env: 'prod', projectDir: ROOT });
    for (const role of project.roles.values()) {
      const keys = selected({ tags: [role.name] }).map((k) => k.key.split('/')[0]);
      expect(new Set(keys)).toEqual(new Set([role.name]));
    }
  });

  it('--skip-tags packages leaves out every package task', () => {
    const all = selected({});
    const skipped = selected({ skipTags: ['packages'] });
    expect(skipped.length).toBeLessThan(all.length);
    expect(skipped.map((k) => k.key)).not.toContain('base/base packages');
  });
});
