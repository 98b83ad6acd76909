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
import { dirname, join } from 'node:path';
import { shq } from '../src/shell/quote.js';
import { loadProject } from '../src/config/load-project.js';
import { compile } from '../src/engine/compile.js';
import { allTasks } from '../src/engine/program.js';
import { loadSecrets, resolveVaultPassword } from '../src/secrets/load-secrets.js';
import { DEFAULT_FLEET, fleetCpuSeconds, fleetResetHosts, fleetSupport, fleetUp } from '../test/fleet/index.js';
import { DEFAULT_FORKS } from '../src/cli/options.js';
import { LIGHT_FLEET, lightDown, lightUp } from '../test/fleet/light/index.js';

const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'bin', 'kanka-infra');
const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);
const BARE_RUNS = Number(process.env['BENCH_BARE_RUNS'] ?? 2);

interface Timing {
  wall: number;
  cpu: number;
  /** CPU seconds the hosts spent meanwhile (their cgroups), when measured. */
  hostsCpu?: number;
}

/**
 * Runs a shell command line; wall time measured around it, CPU seconds from bash's `times` (user
 * and system time of every child, kanka-infra's node process included).
 */
function timeShell(
  commandLine: string,
  env: Record<string, string> = {},
  hostsFleet?: string,
): Promise<Timing & { code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const hostsBefore = hostsFleet ? fleetCpuSeconds(hostsFleet) : undefined;
    const dir = mkdtempSync(join(tmpdir(), 'kanka-bench-'));
    const script = `( ${commandLine} ) > ${dir}/out 2> ${dir}/err; echo $? > ${dir}/code; times > ${dir}/times`;
    const t0 = process.hrtime.bigint();
    const child = spawn('bash', ['-c', script], { env: { ...process.env, NO_COLOR: '1', ...env }, stdio: 'ignore' });
    child.on('error', reject);
    child.on('close', () => {
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      // `times`: line 1 the shell itself, line 2 its children: "0m0.390s 0m0.050s".
      const children = readFileSync(join(dir, 'times'), 'utf8').trim().split('\n')[1] ?? '';
      const cpu = [...children.matchAll(/(\d+)m([\d.]+)s/g)].reduce(
        (sum, m) => sum + Number(m[1]) * 60 + Number(m[2]),
        0,
      );
      const out = readFileSync(join(dir, 'out'), 'utf8');
      const code = Number(readFileSync(join(dir, 'code'), 'utf8').trim());
      rmSync(dir, { recursive: true, force: true });
      const hostsAfter = hostsFleet ? fleetCpuSeconds(hostsFleet) : undefined;
      const hostsCpu = hostsBefore !== undefined && hostsAfter !== undefined ? hostsAfter - hostsBefore : undefined;
      resolve({ wall, cpu, code, out, ...(hostsCpu === undefined ? {} : { hostsCpu }) });
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
// The CLI's own quoting (one quoting function in the project).
const q = shq;

/**
 * One plain OpenSSH `ssh`. Same key exchange as kanka-infra negotiates (curve25519): OpenSSH 9.2's
 * default, sntrup761x25519, costs both ends more CPU and would make the floor easier to get close to.
 */
function sshCommand(keyFile: string, knownHostsFile: string, address: string, remote: string): string {
  return `ssh -i ${q(keyFile)} -o UserKnownHostsFile=${q(knownHostsFile)} -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=10 -o KexAlgorithms=curve25519-sha256 root@${address} ${q(remote)}`;
}

/** Runs one command line per host, at most `parallel` at a time, as one timed shell (a script each, xargs -P). */
function parallelLines(lines: readonly string[], parallel: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'kanka-bench-lines-'));
  lines.forEach((l, i) => writeFileSync(join(dir, `${String(i).padStart(4, '0')}.sh`), `${l}\n`));
  return `ls ${q(dir)}/*.sh | xargs -P ${parallel} -n 1 sh; rc=$?; rm -rf ${q(dir)}; exit $rc`;
}

/** The exact probe scripts a no-op plan sends, one file per host (<host>.sh), for an ssh floor. */
async function recordProbes(inventory: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'kanka-probes-'));
  await timeShell(`${q(CLI)} plan ${q(inventory)}`, { KANKA_INFRA_RECORD_PROBES: dir });
  return dir;
}

/** SSH round trips of the busiest host, from a `plan --json` report. */
const maxRoundTrips = (json: string) =>
  (JSON.parse(json) as { summary: { maxRoundTrips: number } }).summary.maxRoundTrips;

async function main(): Promise<void> {
  const support = fleetSupport();
  if (!support.ok) throw new Error(`bench needs the local fleet: ${support.reason}`);
  const fleet = await fleetUp({ log: () => {} });
  const inv = fleet.inventoryFile;
  const kanka = (args: string, hostsFleet = DEFAULT_FLEET) => timeShell(`${q(CLI)} ${args}`, {}, hostsFleet);
  const log = (s: string) => process.stderr.write(`[bench] ${s}\n`);

  log('converging the site');
  const converge = await kanka(`apply ${q(inv)} --yes`);
  if (converge.code !== 0) throw new Error('the site does not converge: run `kanka-infra apply` on the fleet and look');

  // The site without its last play (health): what the nightly health checks cost drift, measured
  // in the same interleaved runs.
  const siteText = readFileSync(join(ROOT, 'playbooks', 'site.yml'), 'utf8');
  const healthAt = siteText.search(/^- name: health$/m);
  const noHealthDir = mkdtempSync(join(tmpdir(), 'kanka-bench-'));
  const noHealth = join(noHealthDir, 'site-without-health.yml');
  writeFileSync(noHealth, healthAt > 0 ? siteText.slice(0, healthAt) : siteText);

  // The exact probe scripts of a no-op plan, for the ssh floor.
  const probeDir = await recordProbes(inv);
  const scripts = readdirSync(probeDir).map((f) => ({ host: f.replace(/\.sh$/, ''), file: join(probeDir, f) }));
  const address = (h: string) => fleet.hosts.find((x) => x.name === h)?.address ?? '';
  const sshFloor = () =>
    timeShell(
      scripts
        .map(
          (s) =>
            `${sshCommand(fleet.sshKeyFile, fleet.knownHostsFile, address(s.host), 'sh -s')} < ${q(s.file)} > /dev/null &`,
        )
        .join('\n') + '\nwait',
      {},
      DEFAULT_FLEET,
    );

  // Every measurement's runs, by name: wall, kanka-infra's CPU (or the floor's), the hosts' CPU.
  const series = new Map<string, Timing[]>();
  const record = (name: string, t: Timing) => series.set(name, [...(series.get(name) ?? []), t]);
  const statsOf = (name: string, field: 'wall' | 'cpu' | 'hostsCpu'): Stats | undefined => {
    const values = (series.get(name) ?? []).map((t) => t[field]).filter((v): v is number => v !== undefined);
    return values.length > 0 ? stats(values) : undefined;
  };

  log(`no-op plan, apply, drift and the ssh floor, ${RUNS} runs each (interleaved)`);
  let roundTrips = 0;
  for (let i = 0; i < RUNS; i++) {
    for (const [name, run] of [
      ['sshFloor', sshFloor],
      ['noopPlan', () => kanka(`plan ${q(inv)} --json`)],
      ['noopApply', () => kanka(`apply ${q(inv)} --yes`)],
      ['drift', () => kanka(`drift ${q(inv)}`)],
      ['driftWithoutHealth', () => kanka(`drift ${q(inv)} --playbook ${q(noHealth)} -p ${q(ROOT)}`)],
    ] as const) {
      const t = await run();
      if (t.code !== 0) throw new Error(`${name} exited ${t.code}`);
      record(name, t);
      if (name === 'noopPlan') roundTrips = Math.max(roundTrips, maxRoundTrips(t.out));
    }
  }
  rmSync(probeDir, { recursive: true, force: true });
  rmSync(noHealthDir, { recursive: true, force: true });

  // First apply from bare hosts, against one apt-get install per host of the same packages.
  const project = loadProject({ env: inv });
  const password = resolveVaultPassword({ passwordFile: project.inventory.vaultPasswordFile ?? '', env: {} }) ?? '';
  const secrets = project.inventory.secretsFile
    ? { ...loadSecrets(project.inventory.secretsFile, password).values }
    : {};
  const programs = compile(project, { secrets });
  const packagesOf = new Map(
    programs.map((p) => [
      p.host.name,
      [
        ...new Set(
          allTasks(p)
            .filter((t) => t.module.name === 'apt')
            .flatMap((t) => {
              const n = (t.args as { name: string | string[] }).name;
              return Array.isArray(n) ? n : [n];
            }),
        ),
      ],
    ]),
  );
  const resetAll = () =>
    fleetResetHosts(
      fleet.hosts.map((h) => h.name),
      { log: () => {} },
    );
  const aptFloor = () =>
    timeShell(
      fleet.hosts
        .map(
          (h) =>
            `${sshCommand(fleet.sshKeyFile, fleet.knownHostsFile, h.address, `apt-get -q update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ${(packagesOf.get(h.name) ?? []).join(' ')} >/dev/null`)} &`,
        )
        .join('\n') + '\nwait',
      {},
      DEFAULT_FLEET,
    );
  log(`first apply from bare hosts and the apt floor, ${BARE_RUNS} runs each`);
  for (let i = 0; i < BARE_RUNS; i++) {
    await resetAll();
    const floor = await aptFloor();
    if (floor.code !== 0) throw new Error('apt floor failed');
    record('aptFloor', floor);
    await resetAll();
    const first = await kanka(`apply ${q(inv)} --yes`);
    if (first.code !== 0) throw new Error(`first apply exited ${first.code}`);
    record('firstApply', first);
  }

  // Scale: the base role on light hosts (sshd only), converged first, then no-op plans with the default
  // forks, next to the floor for them: one plain ssh per host running the same probe, as many at once.
  const SCALE = (process.env['BENCH_SCALE'] ?? '20,50,100')
    .split(',')
    .map(Number)
    .filter((n) => n > 0);
  const scale: Array<{
    hosts: number;
    wall: Stats;
    cpu: Stats;
    hostsCpu?: Stats;
    roundTrips: number;
    sshFloor: Stats;
    sshFloorHostsCpu?: Stats;
    ratioToSshFloor: number;
  }> = [];
  for (const n of SCALE) {
    log(`scale: ${n} light hosts`);
    const light = await lightUp(n, { log: () => {} });
    const conv = await kanka(`apply ${q(light.inventoryFile)} --yes`, LIGHT_FLEET);
    if (conv.code !== 0) throw new Error(`light hosts (${n}) do not converge`);
    const lightProbes = await recordProbes(light.inventoryFile);
    const knownHosts = join(dirname(light.inventoryFile), 'known_hosts');
    const floorLines = light.hosts.map(
      (h) =>
        `${sshCommand(fleet.sshKeyFile, knownHosts, h.address, 'sh -s')} < ${q(join(lightProbes, `${h.name}.sh`))} > /dev/null`,
    );
    let rt = 0;
    for (let i = 0; i < RUNS; i++) {
      const f = await timeShell(parallelLines(floorLines, DEFAULT_FORKS), {}, LIGHT_FLEET);
      if (f.code !== 0) throw new Error(`ssh floor on ${n} light hosts exited ${f.code}`);
      record(`light${n}Floor`, f);
      const t = await kanka(`plan ${q(light.inventoryFile)} --json`, LIGHT_FLEET);
      if (t.code !== 0) throw new Error(`no-op plan on ${n} light hosts exited ${t.code}`);
      record(`light${n}`, t);
      rt = Math.max(rt, maxRoundTrips(t.out));
    }
    rmSync(lightProbes, { recursive: true, force: true });
    const wall = statsOf(`light${n}`, 'wall') as Stats;
    const sshFloorStats = statsOf(`light${n}Floor`, 'wall') as Stats;
    const hostsCpu = statsOf(`light${n}`, 'hostsCpu');
    const floorHostsCpu = statsOf(`light${n}Floor`, 'hostsCpu');
    scale.push({
      hosts: n,
      wall,
      cpu: statsOf(`light${n}`, 'cpu') as Stats,
      ...(hostsCpu ? { hostsCpu } : {}),
      roundTrips: rt,
      sshFloor: sshFloorStats,
      ...(floorHostsCpu ? { sshFloorHostsCpu: floorHostsCpu } : {}),
      ratioToSshFloor: round(wall.median / sshFloorStats.median),
    });
  }
  if (SCALE.length > 0) await lightDown({ log: () => {} });

  const names = ['noopPlan', 'noopApply', 'drift', 'driftWithoutHealth', 'sshFloor', 'firstApply', 'aptFloor'] as const;
  const pick = (field: 'wall' | 'cpu' | 'hostsCpu') => Object.fromEntries(names.map((k) => [k, statsOf(k, field)]));
  const median = (k: string) => statsOf(k, 'wall')?.median ?? Number.NaN;
  const first = scale[0];
  const last = scale[scale.length - 1];
  const results = {
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? '',
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
    },
    hosts: fleet.hosts.length,
    tasksPerHost: Object.fromEntries(programs.map((p) => [p.host.name, allTasks(p).length])),
    runs: RUNS,
    bareRuns: BARE_RUNS,
    wallSeconds: pick('wall'),
    cpuSeconds: pick('cpu'),
    hostsCpuSeconds: pick('hostsCpu'),
    maxRoundTripsPerHost: roundTrips,
    defaultForks: DEFAULT_FORKS,
    scaleNoopPlan: scale,
    // From the fewest to the most light hosts: how much wall time grew, against how much hosts/forks did.
    scaleGrowth:
      first && last && first !== last
        ? {
            hosts: [first.hosts, last.hosts],
            wallGrowth: round(last.wall.median / first.wall.median),
            hostsPerForksGrowth: round(last.hosts / Math.min(first.hosts, DEFAULT_FORKS)),
          }
        : undefined,
    ratios: {
      noopPlanToSshFloor: round(median('noopPlan') / median('sshFloor')),
      noopApplyToSshFloor: round(median('noopApply') / median('sshFloor')),
      driftToSshFloor: round(median('drift') / median('sshFloor')),
      driftToDriftWithoutHealth: round(median('drift') / median('driftWithoutHealth')),
      firstApplyToAptFloor: round(median('firstApply') / median('aptFloor')),
    },
  };
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'results', 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  const num = (x: Stats | undefined) => (x ? x.median.toFixed(2) : '-');
  const row = (label: string, k: (typeof names)[number], ratio: string) => {
    const w = statsOf(k, 'wall');
    return `| ${label} | ${num(w)} | ${w?.min.toFixed(2) ?? '-'} | ${w?.max.toFixed(2) ?? '-'} | ${num(statsOf(k, 'cpu'))} | ${num(statsOf(k, 'hostsCpu'))} | ${ratio} |`;
  };
  const growth = results.scaleGrowth;
  const lines = [
    `Machine: ${results.machine.cpus} cores (${results.machine.cpuModel}), ${results.machine.memoryGiB} GiB, Node ${results.machine.node}; ${results.hosts} hosts, site of ${Object.values(results.tasksPerHost).reduce((a, b) => a + b, 0)} task-hosts; ${RUNS} runs (${BARE_RUNS} for bare hosts); ${results.date}`,
    '',
    '| measurement | median s | min s | max s | CPU s, tool (median) | CPU s, hosts (median) | ratio to its floor |',
    '|---|---|---|---|---|---|---|',
    row('no-op `plan`', 'noopPlan', `${results.ratios.noopPlanToSshFloor}x ssh floor`),
    row('no-op `apply`', 'noopApply', `${results.ratios.noopApplyToSshFloor}x ssh floor`),
    row('`drift`', 'drift', `${results.ratios.driftToSshFloor}x ssh floor`),
    row(
      '`drift` without the health play',
      'driftWithoutHealth',
      `drift is ${results.ratios.driftToDriftWithoutHealth}x this`,
    ),
    row('ssh floor (1 plain ssh per host, same reads)', 'sshFloor', '1x'),
    row('first `apply` from bare hosts', 'firstApply', `${results.ratios.firstApplyToAptFloor}x apt floor`),
    row('apt floor (1 apt-get install per host)', 'aptFloor', '1x'),
    '',
    `SSH round trips per host in a no-op plan: ${roundTrips}.`,
    '',
    `| light hosts (base role, no-op plan, ${DEFAULT_FORKS} forks) | median s | min s | max s | CPU s, tool | CPU s, hosts | round trips/host | ssh floor s (${DEFAULT_FORKS} at a time) | ratio to it |`,
    '|---|---|---|---|---|---|---|---|---|',
    ...scale.map(
      (x) =>
        `| ${x.hosts} | ${x.wall.median.toFixed(2)} | ${x.wall.min.toFixed(2)} | ${x.wall.max.toFixed(2)} | ${x.cpu.median.toFixed(2)} | ${num(x.hostsCpu)} | ${x.roundTrips} | ${x.sshFloor.median.toFixed(2)} | ${x.ratioToSshFloor}x |`,
    ),
    ...(growth
      ? [
          '',
          `From ${growth.hosts[0]} to ${growth.hosts[1]} light hosts, wall time grew ${growth.wallGrowth}x while hosts/forks grew ${growth.hostsPerForksGrowth}x.`,
        ]
      : []),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
