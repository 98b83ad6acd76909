/**
 * `npm run bench`: kanka-infra against the physical floor, on the local fleet (five Debian hosts).
 * Every figure is measured in this run: medians of several runs with min and max, wall and CPU
 * seconds (kanka-infra's own process, children included), SSH round trips per host, and the
 * ratios to the floors measured right next to them:
 *   - the ssh floor: one plain OpenSSH `ssh` per host, in parallel, running exactly the probe
 *     scripts kanka-infra sends (same reads, no tool around them);
 *   - the apt floor: one `apt-get install` per host, in parallel, of every package the site needs.
 * Results: bench/results/latest.json and a table on stdout.
 */
import { spawn } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProject } from '../src/config/load-project.js';
import { compile } from '../src/engine/compile.js';
import { allTasks } from '../src/engine/program.js';
import { loadSecrets, resolveVaultPassword } from '../src/secrets/load-secrets.js';
import { revealAll } from '../src/cli/load.js';
import { fleetResetHost, fleetSupport, fleetUp, type Fleet } from '../test/fleet/index.js';
import { lightDown, lightUp } from '../test/fleet/light.js';

const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'bin', 'kanka-infra');
const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);
const BARE_RUNS = Number(process.env['BENCH_BARE_RUNS'] ?? 2);

interface Timing {
  wall: number;
  cpu: number;
}

/**
 * Runs a shell command line; wall time measured around it, CPU seconds from bash's `times` (user
 * and system time of every child, kanka-infra's node process included).
 */
function timeShell(commandLine: string, env: Record<string, string> = {}): Promise<Timing & { code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const dir = mkdtempSync(join(tmpdir(), 'kanka-bench-'));
    const script = `( ${commandLine} ) > ${dir}/out 2> ${dir}/err; echo $? > ${dir}/code; times > ${dir}/times`;
    const t0 = process.hrtime.bigint();
    const child = spawn('bash', ['-c', script], { env: { ...process.env, NO_COLOR: '1', ...env }, stdio: 'ignore' });
    child.on('error', reject);
    child.on('close', () => {
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      // `times`: line 1 the shell itself, line 2 its children: "0m0.390s 0m0.050s".
      const children = readFileSync(join(dir, 'times'), 'utf8').trim().split('\n')[1] ?? '';
      const cpu = [...children.matchAll(/(\d+)m([\d.]+)s/g)].reduce((sum, m) => sum + Number(m[1]) * 60 + Number(m[2]), 0);
      const out = readFileSync(join(dir, 'out'), 'utf8');
      const code = Number(readFileSync(join(dir, 'code'), 'utf8').trim());
      rmSync(dir, { recursive: true, force: true });
      resolve({ wall, cpu, code, out });
    });
  });
}

interface Stats {
  median: number;
  min: number;
  max: number;
  runs: number;
}

function stats(values: number[]): Stats {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
  return { median: round(median), min: round(s[0] ?? 0), max: round(s[s.length - 1] ?? 0), runs: s.length };
}

const round = (n: number) => Math.round(n * 1000) / 1000;
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function sshCommand(fleet: Fleet, address: string, remote: string): string {
  return `ssh -i ${q(fleet.sshKeyFile)} -o UserKnownHostsFile=${q(fleet.knownHostsFile)} -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=10 root@${address} ${q(remote)}`;
}


async function main(): Promise<void> {
  const support = fleetSupport();
  if (!support.ok) throw new Error(`bench needs the local fleet: ${support.reason}`);
  const fleet = await fleetUp({ log: () => {} });
  const inv = fleet.inventoryFile;
  const kanka = (args: string) => timeShell(`${q(CLI)} ${args}`);
  const log = (s: string) => process.stderr.write(`[bench] ${s}\n`);

  log('converging the site');
  const converge = await kanka(`apply ${q(inv)} --yes`);
  if (converge.code !== 0) throw new Error('the site does not converge: run `kanka-infra apply` on the fleet and look');

  // The exact probe scripts of a no-op plan, for the ssh floor.
  const probeDir = mkdtempSync(join(tmpdir(), 'kanka-probes-'));
  await timeShell(`${q(CLI)} plan ${q(inv)}`, { KANKA_INFRA_RECORD_PROBES: probeDir });
  const scripts = readdirSync(probeDir).map((f) => ({ host: f.replace(/\.sh$/, ''), file: join(probeDir, f) }));
  const address = (h: string) => fleet.hosts.find((x) => x.name === h)?.address ?? '';
  const sshFloor = () => timeShell(scripts.map((s) => `${sshCommand(fleet, address(s.host), 'sh -s')} < ${q(s.file)} > /dev/null &`).join('\n') + '\nwait');

  log(`no-op plan, apply, drift and the ssh floor, ${RUNS} runs each (interleaved)`);
  const walls: Record<string, number[]> = { plan: [], apply: [], drift: [], sshFloor: [] };
  const cpuTimes: Record<string, number[]> = { plan: [], apply: [], drift: [], sshFloor: [] };
  let roundTrips = 0;
  for (let i = 0; i < RUNS; i++) {
    for (const [name, run, ok] of [
      ['sshFloor', sshFloor, [0]],
      ['plan', () => kanka(`plan ${q(inv)} --json`), [0]],
      ['apply', () => kanka(`apply ${q(inv)} --yes`), [0]],
      ['drift', () => kanka(`drift ${q(inv)}`), [0]],
    ] as const) {
      const t = await run();
      if (!(ok as readonly number[]).includes(t.code)) throw new Error(`${name} exited ${t.code}`);
      walls[name]?.push(t.wall);
      cpuTimes[name]?.push(t.cpu);
      if (name === 'plan') roundTrips = Math.max(roundTrips, (JSON.parse(t.out) as { summary: { maxRoundTrips: number } }).summary.maxRoundTrips);
    }
  }
  rmSync(probeDir, { recursive: true, force: true });

  // First apply from bare hosts, against one apt-get install per host of the same packages.
  const project = loadProject({ env: inv });
  const password = resolveVaultPassword({ passwordFile: project.inventory.vaultPasswordFile ?? '', env: {} }) ?? '';
  const secrets = project.inventory.secretsFile ? revealAll(loadSecrets(project.inventory.secretsFile, password).values) : {};
  const programs = compile(project, { secrets });
  const packagesOf = new Map(programs.map((p) => [p.host.name, [...new Set(allTasks(p).filter((t) => t.module.name === 'apt').flatMap((t) => {
    const n = (t.args as { name: string | string[] }).name;
    return Array.isArray(n) ? n : [n];
  }))]]));
  const resetAll = async () => {
    for (const h of fleet.hosts) await fleetResetHost(h.name, { log: () => {} });
  };
  const aptFloor = () =>
    timeShell(
      fleet.hosts
        .map((h) => `${sshCommand(fleet, h.address, `apt-get -q update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ${(packagesOf.get(h.name) ?? []).join(' ')} >/dev/null`)} &`)
        .join('\n') + '\nwait',
    );
  log(`first apply from bare hosts and the apt floor, ${BARE_RUNS} runs each`);
  const bare: Record<string, number[]> = { firstApply: [], aptFloor: [] };
  const bareCpu: Record<string, number[]> = { firstApply: [], aptFloor: [] };
  for (let i = 0; i < BARE_RUNS; i++) {
    await resetAll();
    const floor = await aptFloor();
    if (floor.code !== 0) throw new Error('apt floor failed');
    bare['aptFloor']?.push(floor.wall);
    bareCpu['aptFloor']?.push(floor.cpu);
    await resetAll();
    const first = await kanka(`apply ${q(inv)} --yes`);
    if (first.code !== 0) throw new Error(`first apply exited ${first.code}`);
    bare['firstApply']?.push(first.wall);
    bareCpu['firstApply']?.push(first.cpu);
  }

  // Scale: the base role on light hosts (sshd only), converged first, then no-op plans, default forks.
  const SCALE = (process.env['BENCH_SCALE'] ?? '20,50,100').split(',').map(Number).filter((n) => n > 0);
  const scale: Array<{ hosts: number; wall: Stats; cpu: Stats; roundTrips: number }> = [];
  for (const n of SCALE) {
    log(`scale: ${n} light hosts`);
    const light = await lightUp(n, { log: () => {} });
    const conv = await kanka(`apply ${q(light.inventoryFile)} --yes`);
    if (conv.code !== 0) throw new Error(`light hosts (${n}) do not converge`);
    const w: number[] = [];
    const c: number[] = [];
    let rt = 0;
    for (let i = 0; i < RUNS; i++) {
      const t = await kanka(`plan ${q(light.inventoryFile)} --json`);
      if (t.code !== 0) throw new Error(`no-op plan on ${n} light hosts exited ${t.code}`);
      w.push(t.wall);
      c.push(t.cpu);
      rt = Math.max(rt, (JSON.parse(t.out) as { summary: { maxRoundTrips: number } }).summary.maxRoundTrips);
    }
    scale.push({ hosts: n, wall: stats(w), cpu: stats(c), roundTrips: rt });
  }
  if (SCALE.length > 0) await lightDown({ log: () => {} });

  const s = (k: string, src = walls) => stats(src[k] ?? []);
  const results = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
    hosts: fleet.hosts.length,
    tasksPerHost: Object.fromEntries(programs.map((p) => [p.host.name, allTasks(p).length])),
    runs: RUNS,
    wallSeconds: {
      noopPlan: s('plan'),
      noopApply: s('apply'),
      drift: s('drift'),
      sshFloor: s('sshFloor'),
      firstApply: s('firstApply', bare),
      aptFloor: s('aptFloor', bare),
    },
    cpuSeconds: {
      noopPlan: s('plan', cpuTimes),
      noopApply: s('apply', cpuTimes),
      drift: s('drift', cpuTimes),
      sshFloor: s('sshFloor', cpuTimes),
      firstApply: s('firstApply', bareCpu),
      aptFloor: s('aptFloor', bareCpu),
    },
    maxRoundTripsPerHost: roundTrips,
    defaultForks: 25,
    scaleNoopPlan: scale,
    ratios: {
      noopPlanToSshFloor: round(s('plan').median / s('sshFloor').median),
      noopApplyToSshFloor: round(s('apply').median / s('sshFloor').median),
      driftToSshFloor: round(s('drift').median / s('sshFloor').median),
      firstApplyToAptFloor: round(s('firstApply', bare).median / s('aptFloor', bare).median),
    },
  };
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'results', 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  const row = (label: string, w: Stats, c: Stats, ratio: string) => `| ${label} | ${w.median.toFixed(2)} | ${w.min.toFixed(2)} | ${w.max.toFixed(2)} | ${c.median.toFixed(2)} | ${ratio} |`;
  const lines = [
    `Machine: ${results.machine.cpus} cores (${results.machine.cpuModel}), ${results.machine.memoryGiB} GiB, Node ${results.machine.node}; ${results.hosts} hosts, site of ${Object.values(results.tasksPerHost).reduce((a, b) => a + b, 0)} task-hosts; ${RUNS} runs (${BARE_RUNS} for bare hosts); ${results.date}`,
    '',
    '| measurement | median s | min s | max s | CPU s (median) | ratio to its floor |',
    '|---|---|---|---|---|---|',
    row('no-op `plan`', results.wallSeconds.noopPlan, results.cpuSeconds.noopPlan, `${results.ratios.noopPlanToSshFloor}x ssh floor`),
    row('no-op `apply`', results.wallSeconds.noopApply, results.cpuSeconds.noopApply, `${results.ratios.noopApplyToSshFloor}x ssh floor`),
    row('`drift`', results.wallSeconds.drift, results.cpuSeconds.drift, `${results.ratios.driftToSshFloor}x ssh floor`),
    row('ssh floor (1 plain ssh per host, same reads)', results.wallSeconds.sshFloor, results.cpuSeconds.sshFloor, '1x'),
    row('first `apply` from bare hosts', results.wallSeconds.firstApply, results.cpuSeconds.firstApply, `${results.ratios.firstApplyToAptFloor}x apt floor`),
    row('apt floor (1 apt-get install per host)', results.wallSeconds.aptFloor, results.cpuSeconds.aptFloor, '1x'),
    '',
    `SSH round trips per host in a no-op plan: ${roundTrips}.`,
    '',
    '| light hosts (base role, no-op plan, default forks) | median s | min s | max s | CPU s (median) | round trips/host |',
    '|---|---|---|---|---|---|',
    ...scale.map((x) => `| ${x.hosts} | ${x.wall.median.toFixed(2)} | ${x.wall.min.toFixed(2)} | ${x.wall.max.toFixed(2)} | ${x.cpu.median.toFixed(2)} | ${x.roundTrips} |`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
