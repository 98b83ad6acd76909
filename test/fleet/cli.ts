/**
 * The local fleet from a terminal:
 *   up [--hosts name:group[+group],...] [--fleet NAME]   boot (or complete) the fleet, write its inventory
 *   down [--wipe] [--fleet NAME]                       stop everything; --wipe: bare hosts on the next up
 *   status [--fleet NAME]                              hosts, pids, and what `systemctl is-system-running` says
 *   stop HOST | start HOST | reset HOST [--fleet NAME] power off / boot / back to bare, keeping key and address
 */
import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import {
  fleetDown,
  fleetResetHost,
  fleetStartHost,
  fleetStatus,
  fleetStopHost,
  fleetSupport,
  fleetUp,
  sshToHost,
} from './index.js';
import type { Fleet, FleetHostSpec } from './index.js';
import { runHarnessCli, UsageError } from './cli-support.js';

const USAGE = `usage: tsx test/fleet/cli.ts <command> [--fleet NAME]
  up [--hosts name:group[+group],...]   boot the fleet (default: the five Kanka hosts); writes .fleet/<fleet>/inventory.yml
  down [--wipe]                         stop every host, the mirror server, delete the bridge (--wipe: bare hosts next time)
  status                                show the hosts and whether they answer
  stop HOST | start HOST | reset HOST   power one host off / on / back to a bare host (same key and address)`;

interface Parsed {
  command: string;
  positional: string[];
  fleet?: string;
  hosts?: FleetHostSpec[];
  wipe: boolean;
}

function parseHosts(value: string): FleetHostSpec[] {
  return value
    .split(',')
    .filter((s) => s.trim() !== '')
    .map((item) => {
      const [name, groups] = item.trim().split(':');
      if (!name || !groups) throw new UsageError(`--hosts: "${item}" is not name:group`);
      return { name, groups: groups.split('+').filter((g) => g !== '') };
    });
}

function parse(argv: string[]): Parsed {
  const [command, ...rest] = argv;
  if (!command || command === '-h' || command === '--help') throw new UsageError('');
  const parsed: Parsed = { command, positional: [], wipe: false };
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i] ?? '';
    const value = (): string => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : rest[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '--fleet' || a.startsWith('--fleet=')) parsed.fleet = value();
    else if (a === '--hosts' || a.startsWith('--hosts=')) parsed.hosts = parseHosts(value());
    else if (a === '--wipe') parsed.wipe = true;
    else if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
    else parsed.positional.push(a);
  }
  return parsed;
}

// A closed pipe (`... | head`) must not kill an `up` half way: output is best effort.
process.stdout.on('error', () => undefined);

const log = (line: string): void => {
  process.stdout.write(`[fleet] ${line}\n`);
};

function show(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel;
}

function printFleet(fleet: Fleet): void {
  process.stdout.write(`inventory: ${show(fleet.inventoryFile)}\n`);
  process.stdout.write(`mirror:    ${fleet.mirrorUrl}\n`);
  for (const h of fleet.hosts) {
    process.stdout.write(
      `  ${h.name.padEnd(12)} ${h.address.padEnd(13)} [${h.groups.join(', ')}]${h.running ? '' : '  (stopped)'}\n`,
    );
  }
}

function oneHost(p: Parsed): string {
  const [host, extra] = p.positional;
  if (!host || extra !== undefined) throw new UsageError(`${p.command} takes exactly one host name`);
  return host;
}

async function main(argv: string[]): Promise<number> {
  const p = parse(argv);
  const support = fleetSupport();
  if (!support.ok) throw new Error(support.reason);
  const ref = { ...(p.fleet === undefined ? {} : { fleet: p.fleet }), log };
  switch (p.command) {
    case 'up': {
      if (p.positional.length > 0) throw new UsageError('up takes no arguments (use --hosts)');
      const fleet = await fleetUp({ ...ref, ...(p.hosts ? { hosts: p.hosts } : {}) });
      printFleet(fleet);
      return 0;
    }
    case 'down':
      await fleetDown({ ...ref, wipe: p.wipe });
      return 0;
    case 'status': {
      const fleet = await fleetStatus(ref);
      if (!fleet) {
        process.stdout.write(`fleet "${p.fleet ?? 'kanka'}" is down\n`);
        return 0;
      }
      const haveInventory = existsSync(fleet.knownHostsFile);
      process.stdout.write(`inventory: ${show(fleet.inventoryFile)}${haveInventory ? '' : ' (missing: run up)'}\n`);
      process.stdout.write(`mirror:    ${fleet.mirrorUrl}\n`);
      const answers = await Promise.all(
        fleet.hosts.map(async (h) => {
          if (!h.running) return 'stopped';
          if (!haveInventory) return `pid ${h.pid}`;
          const r = await sshToHost(fleet, h.name, 'systemctl is-system-running', {
            timeoutMs: 8000,
            connectTimeoutSec: 3,
          });
          return `pid ${h.pid}, ${r.stdout.trim() || `no answer (${r.stderr.trim().split('\n')[0] ?? ''})`}`;
        }),
      );
      fleet.hosts.forEach((h, i) => {
        process.stdout.write(
          `  ${h.name.padEnd(12)} ${h.address.padEnd(13)} [${h.groups.join(', ')}]  ${answers[i] ?? ''}\n`,
        );
      });
      return 0;
    }
    case 'stop':
      await fleetStopHost(oneHost(p), ref);
      return 0;
    case 'start':
      await fleetStartHost(oneHost(p), ref);
      return 0;
    case 'reset':
      await fleetResetHost(oneHost(p), ref);
      return 0;
    default:
      throw new UsageError(`unknown command "${p.command}"`);
  }
}

runHarnessCli(main, USAGE, 'fleet');
