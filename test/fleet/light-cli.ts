/**
 * The light hosts (test/fleet/light/) from a terminal:
 *   up N            make exactly N light hosts run (l001..lNNN, 10.213.7.101..); writes .fleet/light/inventory.yml
 *   down [--purge]  stop them all, unmount, delete their netns and veths (--purge: also their SSH host keys)
 *   status          the recorded hosts, their sshd pid, and whether port 22 answers
 */
import { relative } from 'node:path';
import { LIGHT_MAX_HOSTS, lightDown, lightLeftovers, lightStatus, lightUp, tcpOpen } from './light/index.js';
import { runHarnessCli, UsageError } from './cli-support.js';

const USAGE = `usage: tsx test/fleet/light-cli.ts <command>
  up N            make exactly N light hosts run (1-${LIGHT_MAX_HOSTS}; shrinking removes the ones above N)
  down [--purge]  stop every light host and remove its disk (--purge: also the SSH host keys)
  status          show the light hosts and whether their sshd answers`;

process.stdout.on('error', () => undefined);

const log = (line: string): void => {
  process.stdout.write(`[light] ${line}\n`);
};

function show(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '-h' || command === '--help') throw new UsageError('');
  switch (command) {
    case 'up': {
      const [n, extra] = rest;
      if (n === undefined || extra !== undefined || !/^\d+$/.test(n)) throw new UsageError('up takes one number');
      const r = await lightUp(Number(n), { log });
      const t = r.timings;
      process.stdout.write(`inventory: ${show(r.inventoryFile)}\n`);
      process.stdout.write(
        `hosts: ${r.hosts.length} (${r.hosts[0]?.address ?? '-'} .. ${r.hosts.at(-1)?.address ?? '-'}); started ${t.started}, kept ${t.kept}, removed ${t.removed}\n`,
      );
      process.stdout.write(
        `time: total ${(t.totalMs / 1000).toFixed(1)} s, main fleet check ${(t.fleetMs / 1000).toFixed(1)} s, light base ${(t.baseMs / 1000).toFixed(1)} s${t.baseBuilt ? ' (built)' : ''}, start ${(t.startMs / 1000).toFixed(1)} s` +
          (t.perHostMs
            ? ` (per host ${t.perHostMs.min}/${t.perHostMs.median}/${t.perHostMs.max} ms min/median/max)`
            : '') +
          '\n',
      );
      return 0;
    }
    case 'down': {
      const purge = rest.includes('--purge');
      const unknown = rest.filter((a) => a !== '--purge');
      if (unknown.length > 0) throw new UsageError(`down: unknown argument ${unknown[0] ?? ''}`);
      await lightDown({ log, purge });
      const left = await lightLeftovers();
      if (left.length > 0) {
        process.stdout.write(`left over:\n${left.map((l) => `  ${l}\n`).join('')}`);
        return 1;
      }
      return 0;
    }
    case 'status': {
      if (rest.length > 0) throw new UsageError('status takes no arguments');
      const s = lightStatus();
      if (s.hosts.length === 0) {
        process.stdout.write('light hosts: none\n');
        const left = await lightLeftovers();
        if (left.length > 0) process.stdout.write(`left over (run down):\n${left.map((l) => `  ${l}\n`).join('')}`);
        return 0;
      }
      const answers = await Promise.all(
        s.hosts.map((h) => (h.running ? tcpOpen(h.address, 22, 1000) : Promise.resolve(false))),
      );
      const up = answers.filter(Boolean).length;
      process.stdout.write(
        `inventory: ${show(s.inventoryFile)}\nlight hosts: ${s.hosts.length}, ${up} answering on port 22\n`,
      );
      s.hosts.forEach((h, i) => {
        const what = !h.running
          ? 'stopped'
          : answers[i]
            ? `pid ${h.pid}, ssh port open`
            : `pid ${h.pid}, port 22 NOT answering`;
        process.stdout.write(`  ${h.name}  ${h.address.padEnd(13)} ${h.netns}  ${what}\n`);
      });
      return 0;
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

runHarnessCli(main, USAGE, 'light');
