import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError, describeFsError } from '../diagnostics/diagnostic.js';
import type { Approval } from '../engine/approval.js';
import type { RunReport } from '../engine/report.js';
import { writeAtomic } from '../local/write-atomic.js';

/**
 * A saved plan (`plan --out FILE`): what was shown, the fingerprints apply checks under the locks,
 * the selection it was made with, the configuration's commit and a hash of its inputs. It carries no
 * secret values: reports are already masked, and fingerprints are keyed by the secrets.
 */
export const PLAN_FORMAT = 'kanka-infra-plan';
export const PLAN_VERSION = 2;

const approvedTask = z.object({ name: z.string(), fingerprint: z.string(), shown: z.array(z.string()) });

const planFileSchema = z.object({
  format: z.literal(PLAN_FORMAT),
  /** 2: task keys are "<role>/<task name>" (1 used positions, which an edit elsewhere could shift). */
  version: z.literal(PLAN_VERSION),
  createdAt: z.string(),
  env: z.string(),
  /** The project directory and inventory, as they were resolved when planning. */
  projectDir: z.string(),
  inventory: z.string(),
  playbook: z.string(),
  limit: z.string().optional(),
  tags: z.array(z.string()).optional(),
  skipTags: z.array(z.string()).optional(),
  startAtTask: z.string().optional(),
  /** The -e variables it was made with (plain values: an encrypted file cannot be given to -e). */
  extraVars: z.record(z.string(), z.unknown()).optional(),
  commit: z.string(),
  inputsHash: z.string(),
  approval: z.record(z.string(), z.record(z.string(), approvedTask)),
  /** The report as plan printed it (for people and tools reading the file). */
  report: z.unknown(),
});

export type PlanFile = z.infer<typeof planFileSchema>;

export function writePlanFile(
  file: string,
  plan: Omit<PlanFile, 'format' | 'version' | 'report'> & { report: RunReport },
): void {
  const doc: PlanFile = { format: PLAN_FORMAT, version: PLAN_VERSION, ...plan };
  // 0600: it names hosts, paths and commands of the fleet.
  writeAtomic(file, `${JSON.stringify(doc, null, 2)}\n`, { mode: 0o600 });
}

/** Whether a path names a saved plan rather than an environment (by its content). */
export function looksLikePlanFile(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const head = Buffer.alloc(200);
    const n = readSync(fd, head, 0, head.length, 0);
    return head.subarray(0, n).toString('utf8').includes(`"format": "${PLAN_FORMAT}"`);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export function readPlanFile(file: string): PlanFile & { approval: Approval } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([{ file, message: `cannot read the saved plan: ${describeFsError(err)}` }]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConfigError([
      { file, message: 'not a saved plan (not JSON)', hint: 'make one with: kanka-infra plan <env> --out <file>' },
    ]);
  }
  const version = (json as { version?: unknown } | null)?.version;
  if (typeof version === 'number' && version < PLAN_VERSION) {
    throw new ConfigError([
      {
        file,
        message: `this plan was saved by an earlier kanka-infra (plan format ${version}, this one reads ${PLAN_VERSION}: tasks are now named by role and task name)`,
        hint: 'plan again with: kanka-infra plan <env> --out <file>',
      },
    ]);
  }
  const parsed = planFileSchema.safeParse(json);
  if (!parsed.success) {
    throw new ConfigError([
      {
        file,
        message: `not a saved plan this version can apply (${parsed.error.issues[0]?.path.join('.') ?? ''}: ${parsed.error.issues[0]?.message ?? 'invalid'})`,
        hint: 'plan again with: kanka-infra plan <env> --out <file>',
      },
    ]);
  }
  return parsed.data;
}
