import type { HostReport, TaskReport } from './report.js';

export type Phase = 'plan' | 'apply';

/** What the engine tells the renderers while it runs. The engine never prints. */
/** The task a host is working on (apply), for the live view. */
export interface TaskStarted {
  key: string;
  role: string;
  name: string;
  handler: boolean;
}

export type EngineEvent =
  /** A phase begins on these hosts; `tasks`: how many tasks each will go through (handlers aside). */
  | { type: 'phase-start'; phase: Phase; hosts: Array<{ host: string; tasks: number }> }
  | { type: 'host-start'; host: string; phase: Phase }
  | { type: 'task-start'; host: string; phase: Phase; task: TaskStarted }
  | { type: 'task'; host: string; phase: Phase; task: TaskReport }
  | { type: 'host-end'; host: string; phase: Phase; report: HostReport };

export type EventSink = (event: EngineEvent) => void;
