import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetResetHost, sshToHost } from '../fleet/index.js';
import { tempTree } from '../support/tmp.js';
import { SIGNED_PACKAGE, startSignedRepo, type SignedRepo } from './signed-repo.js';
import { fleetOrSkip, inventoryVariant, kanka } from './support.js';

const { fleet, reason } = fleetOrSkip();
const HOST = 'thumbor';

async function sh(command: string): Promise<{ code: number; stdout: string; stderr: string }> {
  if (!fleet) throw new Error('no fleet');
  return sshToHost(fleet, HOST, command);
}

// apt_source on a real host, against a repository signed with a key made for the test: apt must
// refuse it with the wrong key and install from it with the right one.
describe.skipIf(!fleet)(
  `apt_source: a signed upstream repository on a fleet host${reason ? ` (skipped: ${reason})` : ''}`,
  () => {
    let repo: SignedRepo | undefined;
    let inventory = '';
    let keyFile = '';
    const project = tempTree({}, { until: 'file' });
    const playbook = join(project, 'site.yml');
    const run = (cmd: string, ...extra: string[]) =>
      kanka([cmd, inventory, '--playbook', playbook, '--limit', HOST, ...extra]);

    beforeAll(async () => {
      if (!fleet) return;
      await fleetResetHost(HOST);
      repo = await startSignedRepo(tempTree({}, { until: 'file' }), fleet.gatewayAddress);
      inventory = inventoryVariant(fleet, { extraVars: { repo_uri: repo.uri } });
      const role = join(project, 'roles', 'e2e-apt-source');
      mkdirSync(join(role, 'files'), { recursive: true });
      keyFile = join(role, 'files', 'repo.asc');
      writeFileSync(playbook, `- name: a signed upstream repository\n  hosts: ${HOST}\n  roles: [e2e-apt-source]\n`);
      writeFileSync(
        join(role, 'tasks.yml'),
        [
          '- name: the e2e repository and its key',
          '  apt_source: { name: kanka-e2e, uri: "{{ repo_uri }}", suite: bookworm, components: [main], key_src: repo.asc }',
          '- name: a package only that repository has',
          `  apt: { name: ${SIGNED_PACKAGE} }`,
          '',
        ].join('\n'),
      );
    });

    afterAll(async () => {
      await repo?.close();
      // Leave the host as the other e2e files expect to find it.
      if (fleet) await fleetResetHost(HOST);
    });

    it('signed by someone else: apt refuses the repository, apply fails and installs nothing', async () => {
      writeFileSync(keyFile, repo?.strangerKey ?? '');
      const r = await run('apply', '--yes');
      expect(r.code).toBe(3);
      expect(r.stdout).toMatch(/NO_PUBKEY|not signed|signatures couldn't be verified/);
      expect((await sh(`dpkg-query -W ${SIGNED_PACKAGE}`)).code).not.toBe(0);
    });

    it('with its own key: plan shows the key, the list and the package; apply installs it; plan again is empty', async () => {
      writeFileSync(keyFile, repo?.key ?? '');
      const plan = await run('plan');
      expect(plan.code).toBe(2);
      expect(plan.stdout).toContain('/etc/apt/keyrings/kanka-e2e.asc');
      expect(plan.stdout).toContain(`package ${SIGNED_PACKAGE}`);
      const apply = await run('apply', '--yes');
      expect(apply.code).toBe(0);
      expect((await sh(`dpkg-query -W -f='\${Version}' ${SIGNED_PACKAGE}`)).stdout).toBe('1.0');
      expect((await sh(`cat /usr/share/${SIGNED_PACKAGE}/hello`)).stdout).toBe('from the signed repository\n');
      expect((await sh('cat /etc/apt/sources.list.d/kanka-e2e.list')).stdout).toContain(
        `deb [signed-by=/etc/apt/keyrings/kanka-e2e.asc] ${repo?.uri ?? ''} bookworm main`,
      );
      const again = await run('plan');
      expect(again.code).toBe(0);
    });
  },
);
