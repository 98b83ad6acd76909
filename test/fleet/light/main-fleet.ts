/** The main fleet's part of the light hosts: its bridge, mirror, login key and base, made sure of. */
import { existsSync } from 'node:fs';
import { baseDir } from '../base.js';
import { run } from '../exec.js';
import { fleetUp } from '../fleet.js';
import { DEFAULT_FLEET, fleetPaths } from '../paths.js';
import type { Log } from '../types.js';
import { MIRROR_URL, NET } from './layout.js';
import { httpOk } from './net.js';

/**
 * The bridge, the mirror (answering), the fleet key and the main base. When all are there, nothing of the
 * main fleet is touched (no lock taken, no SSH to its hosts: another engineer's benchmark may be timing
 * them); otherwise fleetUp(), which builds/starts what is missing and keeps running hosts as they are.
 */
export async function ensureMainFleet(log: Log): Promise<{ mainBase: string; ranFleetUp: boolean }> {
  const mainBase = baseDir();
  const keyFile = fleetPaths(DEFAULT_FLEET).keyFile;
  const bridgeOk = (await run('ip', ['-j', 'addr', 'show', 'dev', NET.bridge])).stdout.includes(
    `"local":"${NET.gateway}"`,
  );
  const ready =
    bridgeOk &&
    existsSync(mainBase) &&
    existsSync(keyFile) &&
    existsSync(`${keyFile}.pub`) &&
    (await httpOk(`${MIRROR_URL}Release`, 3000));
  if (ready) {
    log(`main fleet: bridge ${NET.bridge}, mirror ${MIRROR_URL} and base are up; not touching it`);
    return { mainBase, ranFleetUp: false };
  }
  log('main fleet: bridge, mirror or base missing; running fleetUp()');
  await fleetUp({ log: (l) => log(`fleet: ${l}`) });
  if (!existsSync(mainBase)) throw new Error(`fleetUp() ran but the main base ${mainBase} is missing`);
  return { mainBase, ranFleetUp: true };
}
