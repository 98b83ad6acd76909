import { loadInventory } from '../../config/load-inventory.js';
import { resolveInventoryFile } from '../../config/resolve-env.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { write, type Io } from '../io.js';
import { cliVersion } from '../version.js';

/** Lists hosts, addresses and groups, without contacting anything. */
export function inventoryCommand(env: string, opts: { json?: boolean; project?: string }, io: Io): ExitCode {
  const inv = loadInventory(resolveInventoryFile(env, opts.project ?? io.cwd));
  const groups = new Map<string, string[]>();
  for (const h of inv.hosts) for (const g of h.groups) groups.set(g, [...(groups.get(g) ?? []), h.name]);
  if (opts.json) {
    write(
      io.stdout,
      JSON.stringify(
        {
          version: cliVersion(),
          env: inv.name,
          file: inv.file,
          hosts: inv.hosts.map((h) => ({
            name: h.name,
            address: h.address,
            port: h.port,
            user: h.user,
            groups: h.groups,
          })),
          groups: Object.fromEntries(groups),
        },
        null,
        2,
      ),
    );
    return EXIT.OK;
  }
  const rows = [
    ['HOST', 'ADDRESS', 'USER', 'GROUPS'],
    ...inv.hosts.map((h) => [
      h.name,
      h.port === 22 ? h.address : `${h.address}:${h.port}`,
      h.user,
      h.groups.join(', '),
    ]),
  ];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  const lines = rows.map((r) =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd(),
  );
  lines.push('', ...[...groups].map(([g, hs]) => `${g}: ${hs.join(', ')}`));
  write(io.stdout, `${inv.name} (${inv.file})\n\n${lines.join('\n')}`);
  return EXIT.OK;
}
