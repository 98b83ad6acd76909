import { shq } from '../shell/quote.js';
import type { Fact } from './fact.js';

export interface UnitState {
  /** loaded, not-found, masked, ... */
  load: string;
  /** active, inactive, failed, activating, ... */
  active: string;
  /** enabled, disabled, static, masked, ... ("" when unknown) */
  unitFile: string;
  needDaemonReload: boolean;
  /** The unit was started, but a Condition*= of it was not met (e.g. chrony in a container). */
  conditionFailed: boolean;
}

/** `.service` is implied, as with systemctl. */
export function unitName(name: string): string {
  return /\.(service|socket|timer|target|path|mount|slice|scope)$/.test(name) ? name : `${name}.service`;
}

export function unitFact(name: string): Fact<UnitState> {
  const unit = unitName(name);
  return {
    id: `unit:${unit}`,
    kind: 'systemd-unit',
    params: { unit },
    script: () =>
      `if command -v systemctl >/dev/null 2>&1; then systemctl show -p LoadState -p ActiveState -p UnitFileState -p NeedDaemonReload -p ConditionResult -p ConditionTimestampMonotonic -- ${shq(unit)}; else echo 'LoadState=no-systemd'; fi`,
    parse: parseUnitState,
  };
}

export function parseUnitState(output: string): UnitState {
  const map = new Map<string, string>();
  for (const line of output.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) map.set(line.slice(0, eq), line.slice(eq + 1).trim());
  }
  const load = map.get('LoadState');
  if (load === undefined) throw new Error(`unexpected systemctl output: ${JSON.stringify(output.slice(0, 200))}`);
  return {
    load,
    active: map.get('ActiveState') ?? 'inactive',
    unitFile: map.get('UnitFileState') ?? '',
    needDaemonReload: map.get('NeedDaemonReload') === 'yes',
    conditionFailed: map.get('ConditionResult') === 'no' && (map.get('ConditionTimestampMonotonic') ?? '0') !== '0',
  };
}
