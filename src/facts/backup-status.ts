import { lines, sh } from '../shell/command.js';
import type { Fact } from './fact.js';

export interface BackupStatus {
  /** The host's clock, epoch seconds (ages are measured on the host). */
  now: number;
  /** The last run's record (key=value), when there is one. */
  record?: Record<string, string>;
  /** systemd says the job's unit failed (its last run ended in an error). */
  unitFailed: boolean;
}

/** The backup job's last-run record, the host's time, and whether its unit is in the failed state. */
export function backupStatusFact(statusFile: string, unit: string): Fact<BackupStatus> {
  return {
    id: `backup-status:${statusFile}:${unit}`,
    kind: 'backup-status',
    params: { statusFile, unit },
    script: () =>
      lines([
        sh`date +%s`,
        sh`if systemctl is-failed --quiet ${unit} 2>/dev/null; then echo unit-failed; else echo unit-ok; fi`,
        sh`if [ -f ${statusFile} ]; then cat ${statusFile}; fi`,
      ]),
    parse: (output) => {
      const [now = '', unitLine = '', ...rest] = output.split('\n');
      if (!/^\d+$/.test(now.trim()) || !/^unit-(failed|ok)$/.test(unitLine.trim()))
        throw new Error(`unexpected backup status output: ${JSON.stringify(output.slice(0, 200))}`);
      const record: Record<string, string> = {};
      for (const line of rest) {
        const i = line.indexOf('=');
        if (i > 0) record[line.slice(0, i).trim()] = line.slice(i + 1).trim();
      }
      return {
        now: Number(now),
        unitFailed: unitLine.trim() === 'unit-failed',
        ...(Object.keys(record).length > 0 ? { record } : {}),
      };
    },
  };
}
