import type { HostReport, RunReport } from '../engine/report.js';
import { hostTroubled } from '../engine/status.js';

export interface ChangeCounts {
  create: number;
  update: number;
  delete: number;
  run: number;
}

export function changeCounts(hosts: HostReport[], statuses: ReadonlyArray<string>): ChangeCounts {
  const counts: ChangeCounts = { create: 0, update: 0, delete: 0, run: 0 };
  for (const h of hosts)
    for (const t of h.tasks) if (statuses.includes(t.status)) for (const c of t.changes) counts[c.action]++;
  return counts;
}

export function totalChanges(c: ChangeCounts): number {
  return c.create + c.update + c.delete + c.run;
}

/** Hosts that could not be planned or applied. */
export function troubledHosts(report: RunReport): HostReport[] {
  return report.hosts.filter(hostTroubled);
}
