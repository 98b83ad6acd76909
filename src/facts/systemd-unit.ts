import { lines, sh } from '../shell/command.js';
import type { Fact, SharedPrelude } from './fact.js';

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

const PROPERTIES = sh`-p LoadState -p ActiveState -p UnitFileState -p NeedDaemonReload -p ConditionResult -p ConditionTimestampMonotonic`;

/**
 * One `systemctl show` for every unit of a probe (each call is a process on the host, and they add up): blocks
 * separated by blank lines, each with its Id=, kept in KANKA_UNITS for the unit snippets to cut out.
 */
const unitsPrelude: SharedPrelude = {
  id: 'systemd-units',
  script: (units) =>
    sh`KANKA_UNITS=''; if command -v systemctl >/dev/null 2>&1; then KANKA_UNITS="$KANKA_NL$(systemctl show -p Id ${PROPERTIES} -- ${units})$KANKA_NL"; fi`,
};

export function unitFact(name: string): Fact<UnitState> {
  const unit = unitName(name);
  const own = sh`if command -v systemctl >/dev/null 2>&1; then systemctl show ${PROPERTIES} -- ${unit}; else echo 'LoadState=no-systemd'; fi`;
  // The unit's block in the prelude's output: the lines before its Id= back to the blank line, and
  // those after it up to the next one; its own systemctl call when it is not there.
  const idLine = sh`"$KANKA_NL"Id=${unit}"$KANKA_NL"`;
  return {
    id: `unit:${unit}`,
    kind: 'systemd-unit',
    params: { unit },
    shared: { prelude: unitsPrelude, items: [unit] },
    script: () =>
      lines([
        sh`case "$KANKA_UNITS" in`,
        sh`  *${idLine}*) b=\${KANKA_UNITS%%${idLine}*}; a=\${KANKA_UNITS#*${idLine}}; printf '%s\\n%s\\n' "\${b##*"$KANKA_NL$KANKA_NL"}" "\${a%%"$KANKA_NL$KANKA_NL"*}";;`,
        sh`  *) ${own};;`,
        sh`esac`,
      ]),
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
