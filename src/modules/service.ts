import { z } from 'zod';
import { unitFact, unitName } from '../facts/systemd-unit.js';
import { sh } from '../shell/command.js';
import { changes, noop, PlanError, type Change } from './change.js';
import { defineModule } from './module.js';

const args = z
  .strictObject({
    name: z
      .string()
      .regex(
        /^[A-Za-z0-9@_.:][A-Za-z0-9@_.:-]*$/,
        'must be a systemd unit name such as nginx or php8.2-fpm.service (not starting with "-")',
      ),
    state: z
      .enum(['started', 'stopped', 'restarted', 'reloaded'])
      .optional()
      .describe('restarted/reloaded act on every run: use them in handlers'),
    enabled: z.boolean().optional().describe('start at boot'),
  })
  .refine((a) => a.state !== undefined || a.enabled !== undefined, { message: 'give `state`, `enabled`, or both' })
  .describe('a systemd service: running or stopped, enabled or disabled');

type ServiceArgs = z.infer<typeof args>;

const ENABLED = new Set(['enabled', 'enabled-runtime', 'linked', 'linked-runtime', 'alias']);
/** Units that cannot be enabled or disabled themselves (started by another unit). */
const NOT_ENABLEABLE = new Set(['static', 'indirect', 'generated', 'transient']);
const RUNNING = new Set(['active', 'activating', 'reloading']);

const systemctl = (verb: 'start' | 'stop' | 'restart' | 'reload' | 'enable' | 'disable', unit: string) => ({
  op: 'exec' as const,
  command: sh`systemctl ${verb} ${unit}`,
});

export const serviceModule = defineModule<ServiceArgs>({
  name: 'service',
  description:
    'Start, stop, restart or reload a systemd unit, and enable or disable it at boot; daemon-reload when its unit file changed.',
  args,
  facts: (a) => [unitFact(a.name)],
  plan(a, facts) {
    const unit = unitName(a.name);
    const s = facts.get(unitFact(a.name));
    if (s.load === 'no-systemd')
      throw new PlanError('systemctl not found: the service module needs systemd on the host');
    if (s.load === 'not-found') throw new PlanError(`unit ${unit} does not exist (is its package installed?)`);
    if (s.load === 'masked')
      throw new PlanError(`unit ${unit} is masked; unmask it (systemctl unmask ${unit}) if it should run`);
    const list: Change[] = [];
    if (s.needDaemonReload)
      list.push({
        action: 'update',
        subject: 'systemd',
        details: [`daemon-reload (unit file of ${unit} changed)`],
        ops: [{ op: 'exec', command: sh`systemctl daemon-reload` }],
      });
    if (a.enabled === true && !ENABLED.has(s.unitFile) && !NOT_ENABLEABLE.has(s.unitFile)) {
      list.push({
        action: 'update',
        subject: unit,
        details: [`${s.unitFile || 'disabled'} -> enabled`],
        ops: [systemctl('enable', unit)],
      });
    }
    if (a.enabled === false && ENABLED.has(s.unitFile)) {
      list.push({
        action: 'update',
        subject: unit,
        details: [`${s.unitFile} -> disabled`],
        ops: [systemctl('disable', unit)],
      });
    }
    const running = RUNNING.has(s.active);
    // systemd was asked to start it and declined by the unit's own conditions: nothing to do here.
    if (a.state === 'started' && !running && s.conditionFailed && list.length === 0) {
      return noop(`${unit} is not running: its start conditions are not met on this host (systemctl status ${unit})`);
    }
    if (a.state === 'started' && !running && !s.conditionFailed)
      list.push({
        action: 'update',
        subject: unit,
        details: [`${s.active} -> started`],
        ops: [systemctl('start', unit)],
      });
    if (a.state === 'stopped' && running)
      list.push({
        action: 'update',
        subject: unit,
        details: [`${s.active} -> stopped`],
        ops: [systemctl('stop', unit)],
      });
    if (a.state === 'restarted')
      list.push({
        action: 'run',
        subject: unit,
        details: [running ? 'restart' : `${s.active} -> started`],
        ops: [systemctl('restart', unit)],
      });
    if (a.state === 'reloaded') {
      list.push(
        running
          ? { action: 'run', subject: unit, details: ['reload'], ops: [systemctl('reload', unit)] }
          : {
              action: 'update',
              subject: unit,
              details: [`${s.active} -> started (not running, so started instead of reloaded)`],
              ops: [systemctl('start', unit)],
            },
      );
    }
    if (list.length === 0) return noop(`${unit} is ${s.active}${s.unitFile ? `, ${s.unitFile}` : ''}`);
    return changes(...list);
  },
});
