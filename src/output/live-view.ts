import type { ChalkInstance } from 'chalk';
import type { EngineEvent, Phase, TaskStarted } from '../engine/events.js';
import type { HostReport } from '../engine/report.js';

/** Where one host is in the current phase. */
export interface HostProgress {
  host: string;
  /** Tasks it goes through in this phase (handlers aside), and how many are behind it. */
  total: number;
  done: number;
  /** Tasks that changed (apply) or would (plan). */
  changed: number;
  state: 'waiting' | 'running' | 'between-plays' | 'done' | 'failed';
  /** The task it is on (apply), while running. */
  current?: TaskStarted;
  error?: string;
}

/** What the live view shows: the phase and its hosts, in the order the engine gave them. */
export interface ProgressState {
  phase: Phase | undefined;
  hosts: HostProgress[];
}

export function emptyProgress(): ProgressState {
  return { phase: undefined, hosts: [] };
}

/** The state after an event (the state given is updated in place and returned). */
export function advance(state: ProgressState, e: EngineEvent): ProgressState {
  if (e.type === 'phase-start') {
    state.phase = e.phase;
    state.hosts = e.hosts.map((h) => ({ host: h.host, total: h.tasks, done: 0, changed: 0, state: 'waiting' }));
    return state;
  }
  let host = state.hosts.find((h) => h.host === e.host);
  if (!host) {
    // A host the phase did not announce (an engine without phase-start): shown as it comes.
    host = { host: e.host, total: 0, done: 0, changed: 0, state: 'waiting' };
    state.hosts.push(host);
  }
  state.phase = e.phase;
  if (e.type === 'host-start') {
    host.state = 'running';
    delete host.current;
  } else if (e.type === 'task-start') {
    host.state = 'running';
    host.current = e.task;
  } else if (e.type === 'task') {
    if (!e.task.handler) host.done += 1;
    if (e.task.status === 'changed' || e.task.status === 'pending') host.changed += 1;
  } else {
    delete host.current;
    host.state = endState(e.report, host);
    if (e.report.error !== undefined) host.error = e.report.error;
  }
  return state;
}

function endState(report: HostReport, host: HostProgress): HostProgress['state'] {
  if (report.status === 'failed' || report.status === 'unreachable' || report.status === 'skipped') return 'failed';
  // apply runs a host play by play: the end of one play is not the end of its run.
  return host.done < host.total ? 'between-plays' : 'done';
}

/** At most this many host lines: a larger fleet shows the busy hosts and a count of the rest. */
export const MAX_HOST_LINES = 20;

/**
 * The live view's lines (no newline, no cursor codes): a heading with the hosts done, then one
 * line per host with done/total and the task it is on. Each line fits in `columns`, so that
 * redrawing in place (cursor up one line per line) stays exact.
 */
export function renderLive(state: ProgressState, style: ChalkInstance, columns = 80): string[] {
  if (state.phase === undefined) return [];
  const finished = state.hosts.filter((h) => h.state === 'done' || h.state === 'failed').length;
  const lines = [
    `${style.cyan(state.phase)} ${finished}/${state.hosts.length} host${state.hosts.length === 1 ? '' : 's'} done`,
  ];
  const busy = (h: HostProgress) => h.state === 'running' || h.state === 'failed';
  const shown =
    state.hosts.length <= MAX_HOST_LINES ? state.hosts : state.hosts.filter(busy).slice(0, MAX_HOST_LINES - 1);
  const name = Math.max(0, ...shown.map((h) => h.host.length));
  const count = Math.max(0, ...shown.map((h) => `${h.total}`.length));
  for (const h of shown) {
    const n = `${String(h.done).padStart(count)}/${String(h.total).padEnd(count)}`;
    lines.push(fit(`  ${h.host.padEnd(name)}  ${n}  ${hostText(h, state.phase, style)}`, columns));
  }
  const rest = state.hosts.length - shown.length;
  if (rest > 0) {
    const done = state.hosts.filter((h) => !shown.includes(h) && (h.state === 'done' || h.state === 'failed')).length;
    lines.push(`  … ${rest} more (${done} done, ${rest - done} waiting)`);
  }
  return lines;
}

function hostText(h: HostProgress, phase: Phase, style: ChalkInstance): string {
  const changed = phase === 'apply' ? `${h.changed} changed` : `${h.changed} to change`;
  switch (h.state) {
    case 'waiting':
      return style.dim('waiting');
    case 'between-plays':
      return style.dim(`waiting for its next play (${changed})`);
    case 'done':
      return style.green(`done (${changed})`);
    case 'failed':
      return style.red(`failed${h.error !== undefined ? `: ${firstLine(h.error)}` : ''}`);
    case 'running':
      if (!h.current) return phase === 'plan' ? 'reading its state' : 'starting';
      return `${h.current.role}${h.current.handler ? ' handler' : ''}: ${h.current.name}`;
  }
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? '';
}

/** An SGR (colour) escape sequence: ESC [ ... m. */
const COLOUR_CODE = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

/** Cuts a line to the terminal's width (counting visible characters, not colour codes). */
export function fit(line: string, columns: number): string {
  const visible = line.replace(COLOUR_CODE, '');
  if (visible.length < columns) return line;
  // Colour codes are dropped from a line that must be cut: exactness matters more here.
  return `${visible.slice(0, Math.max(0, columns - 2))}…`;
}

/** The line a host event gets where there is no live view (a log, CI, cron mail), or none. */
export function plainLine(e: EngineEvent): string | undefined {
  if (e.type === 'host-start' && e.phase === 'apply') return `apply ${e.host}: started`;
  if (e.type !== 'host-end') return undefined;
  const r = e.report;
  const changes = r.tasks.reduce((n, t) => n + t.changes.length, 0);
  const what =
    r.status === 'unreachable' || r.status === 'failed'
      ? `${r.status}: ${r.error ?? ''}`
      : `${r.status}, ${changes} change(s)`;
  return `${e.phase} ${e.host}: ${what} (${(r.durationMs / 1000).toFixed(1)} s)`;
}
