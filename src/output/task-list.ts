import type { HostProgram } from '../engine/program.js';

/** One task a selection would run on a host (after `when` and loops: one entry per item). */
export interface ListedTask {
  /** The stable key ("<role>/<task name>"), as in reports and saved plans. */
  key: string;
  role: string;
  name: string;
  tags: string[];
}

/** One play: the hosts it runs on under the selection, and what each would run. */
export interface ListedPlay {
  index: number;
  name: string;
  hosts: Array<{ host: string; tasks: ListedTask[] }>;
}

/** What `validate --list-tasks` shows: per play, per host, the tasks the selection keeps. */
export function taskList(programs: HostProgram[]): ListedPlay[] {
  const plays = new Map<number, ListedPlay>();
  for (const program of programs) {
    for (const run of program.plays) {
      const play = plays.get(run.index) ?? { index: run.index, name: run.play.name, hosts: [] };
      plays.set(run.index, play);
      const tasks = run.roles.flatMap((r) =>
        r.tasks.map((t) => ({ key: t.key, role: t.role, name: t.name, tags: t.tags })),
      );
      // A play left with nothing to run on a host (tags, --start-at-task) does not list it.
      if (tasks.length > 0) play.hosts.push({ host: program.host.name, tasks });
    }
  }
  return [...plays.values()].filter((p) => p.hosts.length > 0).sort((a, b) => a.index - b.index);
}

/**
 * The list as text: hosts that would run the same tasks share one heading, so five servers of
 * two kinds read as two lists.
 */
export function renderTaskList(plays: ListedPlay[]): string {
  const lines: string[] = [];
  for (const play of plays) {
    lines.push(`play ${play.index + 1}: ${play.name}`);
    const groups = new Map<string, { hosts: string[]; tasks: ListedTask[] }>();
    for (const h of play.hosts) {
      const id = JSON.stringify(h.tasks);
      const group = groups.get(id) ?? { hosts: [], tasks: h.tasks };
      group.hosts.push(h.host);
      groups.set(id, group);
    }
    for (const { hosts, tasks } of groups.values()) {
      lines.push(`  ${hosts.join(', ')} (${tasks.length} task${tasks.length === 1 ? '' : 's'}):`);
      const width = Math.max(...tasks.map((t) => `${t.role}: ${t.name}`.length));
      for (const t of tasks) lines.push(`    ${`${t.role}: ${t.name}`.padEnd(width)}  [${t.tags.join(', ')}]`);
    }
  }
  return lines.join('\n');
}
