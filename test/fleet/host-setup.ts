/**
 * `npm test`'s pretest and `npm run demo`'s first step: installs the Debian packages the tests and
 * the fleet need (see host-packages.ts). Where it cannot (not root, no apt), it says what to run;
 * the e2e suite then says it is skipped, and under CI=true that is a failure here already.
 */
import { ensureHostPackages, realSetupIo } from './host-packages.js';

const outcome = ensureHostPackages(realSetupIo((line) => process.stdout.write(`[setup] ${line}\n`)));
if (outcome.kind === 'installed') process.stdout.write(`[setup] installed: ${outcome.packages.join(' ')}\n`);
if (outcome.kind === 'refused') {
  process.stderr.write(`[setup] ${outcome.reason}\n`);
  if (process.env['CI'] || process.argv.includes('--required')) process.exit(1);
}
