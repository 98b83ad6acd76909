import type { Host, Project } from '../../config/model.js';
import { DbSession, DbStepError } from '../../db/session.js';
import { dbTopology, type DbTopology } from '../../db/topology.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { write, type Io } from '../io.js';
import { compileWith, loadWithSecrets } from '../load.js';
import type { ProjectOptions } from '../options.js';
import { confirm } from '../prompt.js';
import { runInfo } from '../run-info.js';
import { runConnector } from '../ssh-auth.js';

/* What the db commands share (db.ts only registers them, so the command files need not import each other). */

export interface DbCliOptions extends ProjectOptions {
  yes?: boolean;
}

/** What every db command starts from: the configuration, checked, and the database topology in it. */
export interface DbContext {
  env: string;
  project: Project;
  topology: DbTopology;
  projectDir: string;
  io: Io;
  argv: readonly string[];
}

export function loadDb(env: string, opts: DbCliOptions, io: Io, argv: readonly string[]): DbContext {
  const { project, secrets } = loadWithSecrets(env, opts, io);
  const programs = compileWith(project, secrets, {});
  return { env, project, topology: dbTopology(project, programs), projectDir: opts.project ?? io.cwd, io, argv };
}

/**
 * Opens the hosts, runs `body`, always closes them. A step that fails on a host (or a lock held by
 * another run) is reported with the host's own words: exit 3.
 */
export async function withHosts(
  ctx: DbContext,
  hosts: readonly Host[],
  body: (session: DbSession) => Promise<ExitCode>,
): Promise<ExitCode> {
  const connect = await runConnector(ctx.project.inventory, ctx.io);
  let session: DbSession | undefined;
  try {
    session = await DbSession.open(
      ctx.project,
      hosts,
      connect,
      runInfo(ctx.project.inventory.name, ctx.argv, ctx.projectDir),
    );
    return await body(session);
  } catch (err) {
    if (!(err instanceof DbStepError)) throw err;
    write(ctx.io.stderr, `error: ${err.message}`);
    return EXIT.HOST_FAILED;
  } finally {
    session?.close();
  }
}

/** Asks on a terminal unless --yes; a "no" is said and is exit 1. */
export async function approve(ctx: DbContext, opts: DbCliOptions, question: string): Promise<boolean> {
  if (opts.yes) return true;
  const ok = await confirm(ctx.io, question);
  if (!ok) write(ctx.io.stderr, 'Cancelled: nothing was changed.');
  return ok;
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
