import type { HostReport, TaskReport } from './report.js';

export type Phase = 'plan' | 'apply';

/** What the engine tells the renderers while it runs. The engine never prints. */
export type EngineEvent =
  | { type: 'host-start'; host: string; phase: Phase }
  | { type: 'task'; host: string; phase: Phase; task: TaskReport }
  | { type: 'host-end'; host: string; phase: Phase; report: HostReport };

export type EventSink = (event: EngineEvent) => void;
