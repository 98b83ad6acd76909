import { FakeHost } from './fake-host/index.js';
import type { ConnectionTarget } from '../../src/transport/transport.js';

/**
 * In-memory hosts that keep their state across CLI runs, created on first connection with /etc
 * and /srv; `setup` prepares each new host.
 */
export function fakeFleet(setup: (name: string, host: FakeHost) => void = () => {}) {
  const hosts = new Map<string, FakeHost>();
  const connect = async (t: ConnectionTarget) => {
    let h = hosts.get(t.host);
    if (!h) {
      h = FakeHost.with({ '/etc': { type: 'directory' }, '/srv': { type: 'directory' } });
      setup(t.host, h);
      hosts.set(t.host, h);
    }
    // Each run opens a fresh connection: round trips are counted per run.
    h.roundTrips = 0;
    return h;
  };
  return { hosts, connect };
}
