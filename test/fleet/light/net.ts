/** The light hosts' network: a netns and a veth on the main fleet's bridge each; listing them; is a port open. */
import { get } from 'node:http';
import { connect } from 'node:net';
import { run, runOk } from '../exec.js';
import { NET } from './layout.js';
import type { HostNames } from './layout.js';

/** `ip netns add` creates /run/netns and its bind mount on first use: not safe to run concurrently. */
let netnsQueue: Promise<unknown> = Promise.resolve();
function serialized<T>(fn: () => Promise<T>): Promise<T> {
  const result = netnsQueue.then(fn, fn);
  netnsQueue = result.catch(() => undefined);
  return result;
}

/** Whether something accepts TCP connections at address:port (within timeoutMs). */
export function tcpOpen(address: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port });
    const done = (ok: boolean): void => {
      socket.removeAllListeners();
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export function httpOk(url: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = get(url, { timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

export async function netnsList(): Promise<Set<string>> {
  const r = await run('ip', ['netns', 'list']);
  const out = new Set<string>();
  if (r.code !== 0) return out;
  for (const line of r.stdout.split('\n')) {
    const name = line.trim().split(/\s+/)[0];
    if (name) out.add(name);
  }
  return out;
}

export interface LinkInfo {
  ifname: string;
  master?: string;
  operstate?: string;
}

export async function linkList(): Promise<Map<string, LinkInfo>> {
  const r = await run('ip', ['-j', 'link', 'show']);
  const out = new Map<string, LinkInfo>();
  if (r.code !== 0) return out;
  for (const l of JSON.parse(r.stdout) as LinkInfo[]) out.set(l.ifname, l);
  return out;
}

/** What exists on this machine, listed once per operation (under the lock: nothing else makes ours meanwhile). */
export interface NetSnapshot {
  netns: Set<string>;
  links: Map<string, LinkInfo>;
}

export async function netSnapshot(): Promise<NetSnapshot> {
  return { netns: await netnsList(), links: await linkList() };
}

/** The host's netns with eth0 at its address, and the other end of the veth on the bridge. */
export async function setupNetwork(n: HostNames): Promise<void> {
  await serialized(() => runOk('ip', ['netns', 'add', n.netns]));
  await runOk('ip', ['-b', '-'], {
    input: [
      `link add ${n.veth} type veth peer name eth0 netns ${n.netns}`,
      `link set ${n.veth} master ${NET.bridge}`,
      `link set ${n.veth} up`,
      '',
    ].join('\n'),
  });
  await runOk('ip', ['-n', n.netns, '-b', '-'], {
    input: [`addr add ${n.address}/24 dev eth0`, 'link set eth0 up', 'link set lo up', ''].join('\n'),
  });
}
