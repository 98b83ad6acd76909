import { describe, expect, it } from 'vitest';
import type { Fact } from '../../src/facts/fact.js';
import { unitFact } from '../../src/facts/systemd-unit.js';
import { sh } from '../../src/shell/command.js';
import { probeFacts } from '../../src/transport/probe-script.js';
import { connectSsh } from '../../src/transport/ssh.js';
import type { Transport } from '../../src/transport/transport.js';
import { fleetOrSkip } from './support.js';

const { fleet, reason } = fleetOrSkip();

async function connect(): Promise<Transport> {
  const host = fleet?.hosts[0];
  if (!fleet || !host) throw new Error('no fleet');
  return connectSsh({
    host: host.name,
    address: host.address,
    port: 22,
    user: 'root',
    keyFile: fleet.sshKeyFile,
    agent: false,
    knownHostsFile: fleet.knownHostsFile,
    connectTimeoutMs: 10_000,
    keepaliveMs: 0,
    sudo: false,
  });
}

// Facts that share one read per probe (a prelude) must answer exactly as each would alone, on a real host.
describe.skipIf(!fleet)(`shared probe reads on a fleet host${reason ? ` (skipped: ${reason})` : ''}`, () => {
  const units = ['ssh', 'systemd-journald', 'systemd-journald.socket', 'getty@tty1', 'no-such-unit', 'cron.timer'].map(
    unitFact,
  );

  it('one systemctl show for all units gives each unit what its own call gives', async () => {
    const t = await connect();
    try {
      const together = await probeFacts(t, units, false);
      for (const f of units) {
        const alone = await probeFacts(t, [{ ...f, shared: undefined }], false);
        expect(together.get(f.id), f.params['unit']).toEqual(alone.get(f.id));
        expect(together.get(f.id)?.ok, f.params['unit']).toBe(true);
      }
      expect(together.get(unitFact('ssh').id)).toMatchObject({ ok: true, value: { load: 'loaded', active: 'active' } });
      expect(together.get(unitFact('no-such-unit').id)).toMatchObject({ ok: true, value: { load: 'not-found' } });
    } finally {
      t.close();
    }
  });

  it('the units are read by the shared call, not one call each', async () => {
    const t = await connect();
    try {
      // A systemctl that answers nonsense, defined after the prelude: only a unit read on its own would see it.
      const shadowed = units.map((f) => ({
        ...f,
        script: () => sh`systemctl() { echo LoadState=read-on-its-own; }\n${f.script()}`,
      }));
      const r = await probeFacts(t, shadowed, false);
      for (const f of shadowed)
        expect(r.get(f.id), f.params['unit']).not.toMatchObject({ value: { load: 'read-on-its-own' } });
      const alone = await probeFacts(t, [{ ...shadowed[0], shared: undefined } as Fact<unknown>], false);
      expect(alone.get(units[0]?.id ?? '')).toMatchObject({ value: { load: 'read-on-its-own' } });
    } finally {
      t.close();
    }
  });
});
