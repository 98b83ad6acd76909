import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { sshToHost } from '../fleet/index.js';
import { fixtures, fleetOrSkip, kanka } from './support.js';

/**
 * What you approve is exactly what runs, on real hosts: `plan --out` then `apply FILE` applies the
 * saved changes; a hand change in between makes apply refuse with the host and item named, and
 * nothing changes anywhere.
 */
const { fleet, reason } = fleetOrSkip();
const playbook = join(fixtures, 'playbooks', 'saved-plan.yml');
const names = () => fleet?.hosts.map((h) => h.name) ?? [];
const FILE = '/etc/kanka-saved-plan.conf';
const MARK = '/tmp/kanka-saved-plan-ran';

async function sh(host: string, command: string): Promise<string> {
  if (!fleet) throw new Error('no fleet');
  const r = await sshToHost(fleet, host, command, { timeoutMs: 60000 });
  return r.stdout;
}

async function state(host: string): Promise<{ file: string; ran: boolean; locked: boolean }> {
  const out = await sh(
    host,
    `cat ${FILE} 2>/dev/null || echo '(none)'; test -e ${MARK} && echo ran || echo not-run; test -e /var/lib/kanka-infra/lock && echo locked || echo free`,
  );
  const lines = out.trim().split('\n');
  return { file: lines.slice(0, -2).join('\n'), ran: lines.at(-2) === 'ran', locked: lines.at(-1) === 'locked' };
}

describe.skipIf(!fleet)(`saved plans on the local fleet${reason ? ` (skipped: ${reason})` : ''}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'kanka-saved-plan-'));
  const planFile = join(dir, 'fleet.plan');
  const clean = () => Promise.all(names().map((h) => sh(h, `rm -f ${FILE} ${MARK}`)));
  beforeEach(clean);
  afterAll(clean);

  it('a hand change between plan --out and apply FILE: refused naming host and item, nothing changed anywhere', async () => {
    const plan = await kanka(['plan', fleet?.inventoryFile ?? '', '--playbook', playbook, '--out', planFile]);
    expect(plan.code, plan.stderr).toBe(2);
    expect(readFileSync(planFile, 'utf8')).toContain('"format": "kanka-infra-plan"');
    await sh('backend2', `echo 'edited by hand' > ${FILE}`);
    const apply = await kanka(['apply', planFile]);
    expect(apply.code, apply.stdout.slice(-2000) + apply.stderr).toBe(3);
    expect(apply.stderr).toMatch(/Refused: nothing was changed/);
    expect(apply.stderr).toMatch(
      new RegExp(`backend2 {2}"a file to approve": planned create ${FILE}; now update ${FILE}`),
    );
    for (const host of names()) {
      const s = await state(host);
      expect(s.locked, `${host} lock`).toBe(false);
      expect(s.ran, `${host} ran the command`).toBe(false);
      expect(s.file, `${host} file`).toBe(host === 'backend2' ? 'edited by hand' : '(none)');
    }
  });

  it('without a hand change apply FILE applies exactly the saved changes; plan afterwards is empty', async () => {
    const plan = await kanka(['plan', fleet?.inventoryFile ?? '', '--playbook', playbook, '--out', planFile]);
    expect(plan.code).toBe(2);
    const apply = await kanka(['apply', planFile]);
    expect(apply.code, apply.stdout.slice(-2000) + apply.stderr).toBe(0);
    expect(apply.stdout).toMatch(/Applied: 5 created, 0 updated, 0 deleted, 5 run on 5 hosts/);
    for (const host of names()) {
      const s = await state(host);
      expect(s).toEqual({ file: `approved for ${host}`, ran: true, locked: false });
    }
    expect((await kanka(['plan', fleet?.inventoryFile ?? '', '--playbook', playbook])).code).toBe(0);
  });
});
