import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../../src/engine/events.js';
import type { HostReport, TaskReport } from '../../../src/engine/report.js';
import { advance, emptyProgress, fit, plainLine, renderLive } from '../../../src/output/live-view.js';
import { Progress, progressMode } from '../../../src/output/progress.js';

const plain = new Chalk({ level: 0 });

const task = (key: string, status: TaskReport['status'], handler = false): TaskReport => ({
  key,
  role: key.split('/')[0] ?? '',
  name: key.split('/')[1] ?? '',
  module: 'file',
  handler,
  status,
  changes: [],
  source: 'tasks.yml:1',
});

const hostEnd = (host: string, status: HostReport['status'], error?: string): EngineEvent => ({
  type: 'host-end',
  host,
  phase: 'apply',
  report: {
    host,
    address: '10.0.0.1',
    status,
    ...(error !== undefined ? { error } : {}),
    tasks: [],
    roundTrips: 1,
    connectMs: 1,
    durationMs: 1500,
  },
});

function run(events: EngineEvent[]) {
  const state = emptyProgress();
  for (const e of events) advance(state, e);
  return state;
}

const start: EngineEvent = {
  type: 'phase-start',
  phase: 'apply',
  hosts: [
    { host: 'backend1', tasks: 12 },
    { host: 'frontend1', tasks: 3 },
    { host: 'thumbor', tasks: 3 },
  ],
};

describe('the live view', () => {
  it('shows each host with done/total and the task it is on', () => {
    const state = run([
      start,
      { type: 'host-start', host: 'backend1', phase: 'apply' },
      { type: 'task', host: 'backend1', phase: 'apply', task: task('base/apt sources', 'ok') },
      { type: 'task', host: 'backend1', phase: 'apply', task: task('base/base packages', 'changed') },
      {
        type: 'task-start',
        host: 'backend1',
        phase: 'apply',
        task: { key: 'nginx-php/nginx site', role: 'nginx-php', name: 'nginx site', handler: false },
      },
      { type: 'host-start', host: 'thumbor', phase: 'apply' },
      ...['a', 'b', 'c'].map((n): EngineEvent => ({
        type: 'task',
        host: 'thumbor',
        phase: 'apply',
        task: task(`thumbor/${n}`, 'ok'),
      })),
      { type: 'task', host: 'thumbor', phase: 'apply', task: task('thumbor/restart', 'changed', true) },
      hostEnd('thumbor', 'changed'),
    ]);
    expect(renderLive(state, plain)).toEqual([
      'apply 1/3 hosts done',
      '  backend1    2/12  nginx-php: nginx site',
      '  frontend1   0/3   waiting',
      '  thumbor     3/3   done (1 changed)',
    ]);
  });

  it('a host between plays is not done; a failed host says why; a handler is named as one', () => {
    const state = run([
      start,
      { type: 'host-start', host: 'backend1', phase: 'apply' },
      { type: 'task', host: 'backend1', phase: 'apply', task: task('base/x', 'changed') },
      hostEnd('backend1', 'changed'),
      { type: 'host-start', host: 'frontend1', phase: 'apply' },
      hostEnd('frontend1', 'failed', 'task "haproxy config" (haproxy) failed: exit 1\nmore'),
      {
        type: 'task-start',
        host: 'thumbor',
        phase: 'apply',
        task: { key: 'thumbor/handler/restart', role: 'thumbor', name: 'restart thumbor', handler: true },
      },
    ]);
    expect(renderLive(state, plain)).toEqual([
      'apply 1/3 hosts done',
      '  backend1    1/12  waiting for its next play (1 changed)',
      '  frontend1   0/3   failed: task "haproxy config" (haproxy) failed: exit 1',
      '  thumbor     0/3   thumbor handler: restart thumbor',
    ]);
  });

  it('plan: a host reading its state, then its count of changes', () => {
    const state = run([
      { type: 'phase-start', phase: 'plan', hosts: [{ host: 'web1', tasks: 2 }] },
      { type: 'host-start', host: 'web1', phase: 'plan' },
    ]);
    expect(renderLive(state, plain)).toEqual(['plan 0/1 host done', '  web1  0/2  reading its state']);
    advance(state, { type: 'task', host: 'web1', phase: 'plan', task: task('base/a', 'pending') });
    advance(state, { type: 'task', host: 'web1', phase: 'plan', task: task('base/b', 'ok') });
    advance(state, { ...hostEnd('web1', 'pending'), phase: 'plan' });
    expect(renderLive(state, plain)[1]).toBe('  web1  2/2  done (1 to change)');
  });

  it('nothing before a phase starts; lines fit the terminal; a large fleet shows the busy hosts', () => {
    expect(renderLive(emptyProgress(), plain)).toEqual([]);
    expect(fit('x'.repeat(100), 40)).toBe(`${'x'.repeat(38)}…`);
    expect(fit('short', 40)).toBe('short');
    const many = run([
      {
        type: 'phase-start',
        phase: 'apply',
        hosts: Array.from({ length: 30 }, (_, i) => ({ host: `h${i}`, tasks: 1 })),
      },
      { type: 'host-start', host: 'h3', phase: 'apply' },
      { type: 'host-start', host: 'h7', phase: 'apply' },
    ]);
    expect(renderLive(many, plain)).toEqual([
      'apply 0/30 hosts done',
      '  h3  0/1  starting',
      '  h7  0/1  starting',
      '  … 28 more (0 done, 28 waiting)',
    ]);
  });

  it('off a terminal: one plain line per host event', () => {
    expect(plainLine({ type: 'host-start', host: 'web1', phase: 'apply' })).toBe('apply web1: started');
    expect(plainLine(hostEnd('web1', 'failed', 'boom'))).toBe('apply web1: failed: boom (1.5 s)');
    expect(plainLine({ type: 'task', host: 'web1', phase: 'apply', task: task('a/b', 'ok') })).toBeUndefined();
  });
});

describe('live or not', () => {
  it('live only when stdout and stderr are terminals; none with --json; drift quiet off a terminal', () => {
    const tty = { stdoutIsTTY: true, stderrIsTTY: true };
    expect(progressMode({ json: false, ...tty })).toBe('live');
    expect(progressMode({ json: true, ...tty })).toBe('none');
    expect(progressMode({ json: false, stdoutIsTTY: false, stderrIsTTY: true })).toBe('lines');
    expect(progressMode({ json: false, stdoutIsTTY: false, stderrIsTTY: false })).toBe('lines');
    expect(progressMode({ json: false, stdoutIsTTY: false, stderrIsTTY: false, quietOffTerminal: true })).toBe('none');
    expect(progressMode({ json: false, ...tty, quietOffTerminal: true })).toBe('live');
  });

  it('redraws in place: cursor up over the lines drawn last, clear, draw; finish clears it', () => {
    const chunks: string[] = [];
    const out = Object.assign(
      { write: (s: string) => chunks.push(s) > 0 },
      { columns: 80 },
    ) as unknown as NodeJS.WritableStream & { columns: number };
    const p = new Progress(out, 'live', plain);
    p.handle({ type: 'phase-start', phase: 'apply', hosts: [{ host: 'web1', tasks: 1 }] });
    expect(chunks).toEqual(['apply 0/1 host done\n  web1  0/1  waiting\n']);
    p.handle({ type: 'host-start', host: 'web1', phase: 'apply' });
    expect(chunks[1]).toBe('\x1b[2A\r\x1b[Japply 0/1 host done\n  web1  0/1  starting\n');
    p.finish();
    expect(chunks[2]).toBe('\x1b[2A\r\x1b[J');
    p.finish();
    expect(chunks).toHaveLength(3);
  });

  it('lines mode writes no cursor code', () => {
    const chunks: string[] = [];
    const out = { write: (s: string) => chunks.push(s) > 0 } as unknown as NodeJS.WritableStream;
    const p = new Progress(out, 'lines', plain);
    p.handle(start);
    p.handle({ type: 'host-start', host: 'backend1', phase: 'apply' });
    p.handle(hostEnd('backend1', 'changed'));
    p.finish();
    expect(chunks.join('')).toBe('apply backend1: started\napply backend1: changed, 0 change(s) (1.5 s)\n');
  });
});
