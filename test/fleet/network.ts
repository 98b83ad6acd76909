/** The fleet's bridge: one private /24 on this machine, no NAT, no forwarding, no route anywhere else. */
import { run, runOk } from './exec.js';
import type { FleetNetwork } from './paths.js';

interface IpAddrInfo {
  ifname: string;
  addr_info?: { family: string; local: string; prefixlen: number }[];
}

async function addresses(dev?: string): Promise<IpAddrInfo[]> {
  const r = await run('ip', ['-j', 'addr', 'show', ...(dev ? ['dev', dev] : [])]);
  if (r.code !== 0) return [];
  return JSON.parse(r.stdout) as IpAddrInfo[];
}

export async function bridgeExists(bridge: string): Promise<boolean> {
  return (await run('ip', ['link', 'show', 'dev', bridge])).code === 0;
}

export async function ensureBridge(net: FleetNetwork): Promise<'created' | 'existing'> {
  // The subnet must be ours alone.
  for (const iface of await addresses()) {
    if (iface.ifname === net.bridge) continue;
    for (const a of iface.addr_info ?? []) {
      if (a.family === 'inet' && a.local.startsWith(`${net.prefix}.`)) {
        throw new Error(
          `${net.prefix}.0/24 is already used by ${iface.ifname} (${a.local}); the fleet needs that subnet for itself`,
        );
      }
    }
  }
  let outcome: 'created' | 'existing' = 'existing';
  if (!(await bridgeExists(net.bridge))) {
    await runOk('ip', ['link', 'add', net.bridge, 'type', 'bridge']);
    outcome = 'created';
  }
  const [info] = await addresses(net.bridge);
  const has = (info?.addr_info ?? []).some(
    (a) => a.family === 'inet' && a.local === net.gateway && a.prefixlen === net.prefixLength,
  );
  if (!has) await runOk('ip', ['addr', 'add', `${net.gateway}/${net.prefixLength}`, 'dev', net.bridge]);
  await runOk('ip', ['link', 'set', net.bridge, 'up']);
  return outcome;
}

export async function deleteBridge(bridge: string): Promise<boolean> {
  if (!(await bridgeExists(bridge))) return false;
  await runOk('ip', ['link', 'delete', bridge, 'type', 'bridge']);
  return true;
}

/** Inside the host's network namespace (nsenter on its init pid): put the address on host0 and bring it up. */
export async function configureHostInterface(initPid: number, address: string, prefixLength: number): Promise<boolean> {
  const ns = ['-t', String(initPid), '-n', 'ip'];
  const show = await run('nsenter', [...ns, '-j', 'addr', 'show', 'dev', 'host0']);
  if (show.code !== 0) return false; // host0 not moved in yet
  const [info] = JSON.parse(show.stdout) as IpAddrInfo[];
  const has = (info?.addr_info ?? []).some((a) => a.family === 'inet' && a.local === address);
  if (!has) await runOk('nsenter', [...ns, 'addr', 'add', `${address}/${prefixLength}`, 'dev', 'host0']);
  await runOk('nsenter', [...ns, 'link', 'set', 'host0', 'up']);
  return true;
}
