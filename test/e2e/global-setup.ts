import type { TestProject } from 'vitest/node';
import { fleetDown, fleetStatus, fleetSupport, fleetUp, type Fleet } from '../fleet/index.js';
import { ensureHostPackages, realSetupIo } from '../fleet/host-packages.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The booted fleet, or why there is none (then every e2e test is reported as skipped). */
    fleet: Fleet | { unavailable: string };
  }
}

/**
 * Boots the local fleet once for the whole e2e suite. Where the machine cannot run it, the
 * suite is skipped with a one-line reason, except in CI, where that is a failure.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // `npx vitest run --project e2e` skips npm's pretest: the packages are checked here too.
  const setup = ensureHostPackages(realSetupIo((l) => process.stderr.write(`[setup] ${l}\n`)));
  if (setup.kind === 'refused') process.stderr.write(`[setup] ${setup.reason}\n`);
  const support = fleetSupport();
  if (!support.ok) {
    if (process.env['CI'])
      throw new Error(`e2e: the local fleet cannot run here, and CI must run it: ${support.reason}`);
    process.stderr.write(`\ne2e SKIPPED: ${support.reason}\n\n`);
    project.provide('fleet', { unavailable: support.reason });
    return async () => {};
  }
  const wasUp = (await fleetStatus())?.hosts.every((h) => h.running) ?? false;
  const t0 = Date.now();
  const fleet = await fleetUp({ log: (l) => process.stderr.write(`[fleet] ${l}\n`) });
  process.stderr.write(
    `[fleet] ready in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${fleet.hosts.map((h) => `${h.name}=${h.address}`).join(' ')}\n`,
  );
  project.provide('fleet', fleet);
  return async () => {
    // A fleet that was already up (a developer's) stays up; one booted for this run goes down.
    if (!wasUp && !process.env['KANKA_FLEET_KEEP']) await fleetDown();
  };
}
