import type { Logger } from 'pino';
import type { Agent } from '../agents/agent.js';
import type { ManifestRun } from './manifest.js';
import { runCell, type RunCellDeps } from './start-or-resume.js';
import type { Executor } from './scheduler.js';

/** Runs planned runs in this process, each in `<batchDir>/<runId>`. */
export function localExecutor(options: {
  batchId: string;
  batchDir: string;
  env: Readonly<Record<string, string | undefined>>;
  logger: Logger;
  agentsFor?: (run: ManifestRun) => Agent[] | undefined;
  observersFor?: RunCellDeps['observersFor'];
  /** The caller holds the batch lock (see RunCellDeps.batchLocked). */
  batchLocked?: boolean;
}): Executor {
  return {
    execute: (run, ctx) =>
      runCell(run, {
        batchId: options.batchId,
        batchDir: options.batchDir,
        env: options.env,
        logger: options.logger,
        signal: ctx.signal,
        onTurn: ctx.onTurn,
        onPriorCost: ctx.onPriorCost,
        ...(options.agentsFor ? { agentsFor: options.agentsFor } : {}),
        ...(options.observersFor ? { observersFor: options.observersFor } : {}),
        ...(options.batchLocked ? { batchLocked: true } : {}),
      }),
  };
}
