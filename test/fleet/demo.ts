/**
 * `npm run demo`: boots the five-host local fleet, applies the Kanka site to it with kanka-infra,
 * and says where to look.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fleetSupport, fleetUp } from './index.js';
import { REPO_ROOT } from './paths.js';

const support = fleetSupport();
if (!support.ok) {
  process.stderr.write(`demo: ${support.reason}\n`);
  process.exit(1);
}
const fleet = await fleetUp();
const cli = join(REPO_ROOT, 'bin', 'kanka-infra');
process.stdout.write(`\n$ kanka-infra apply ${fleet.inventoryFile} --yes\n`);
const apply = spawnSync(cli, ['apply', fleet.inventoryFile, '--yes'], { stdio: 'inherit' });
if (apply.status !== 0) {
  process.stderr.write(`\ndemo: kanka-infra apply exited ${apply.status}\n`);
  process.exit(apply.status ?? 1);
}
const frontends = fleet.hosts.filter((h) => h.groups.includes('frontend'));
process.stdout.write(
  [
    '',
    'The Kanka site runs on the local fleet. Try (self-signed certificate, hence -k):',
    ...frontends.map(
      (h) =>
        `  curl -k https://${h.address}/healthz      # ${h.name}: haproxy -> varnish -> nginx -> php-fpm -> MariaDB, Redis`,
    ),
    ...frontends.slice(0, 1).map((h) => `  curl -ksI https://${h.address}/ | grep X-Cache   # twice: MISS, then HIT`),
    '',
    `  kanka-infra plan ${fleet.inventoryFile}     # nothing to change`,
    `  npm run fleet:down                           # stop the fleet`,
    '',
  ].join('\n'),
);
