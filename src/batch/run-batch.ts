import { join, resolve } from 'node:path';
import { newRunId } from '../arena/run.js';
import { InputError } from '../errors.js';
import type { LoadedPlan } from './load-plan.js';
import { writeManifest, type Manifest } from './manifest.js';
import type { RunOutcome } from './outcome.js';
import { inspectRun } from './start-or-resume.js';
import { schedule, type Executor, type ProgressSnapshot } from './scheduler.js';
import { buildSummary, writeSummary, type WrittenSummary } from './summary.js';

/** Write the manifest of a new batch under `runsDir` (before any run starts) and return it. */
export function createBatch(
  loaded: LoadedPlan,
  runsDir: string,
  options: { batchId?: string; queue?: string; now?: Date } = {},
): { manifest: Manifest; batchDir: string } {
  const now = options.now ?? new Date();
  const batchId = options.batchId ?? newRunId(loaded.name, now);
  const batchDir = resolve(runsDir, batchId);
  const manifest: Manifest = {
    v: 2,
    kind: 'arena.batch',
    batchId,
    createdAt: now.toISOString(),
    planFile: loaded.file,
    plan: loaded.plan,
    ...(options.queue ? { queue: options.queue } : {}),
    // The plan loader checked every scenario: the manifest holds them as they are.
    scenarios: loaded.bases,
    runs: loaded.runs,
  };
  writeManifest(batchDir, manifest);
  return { manifest, batchDir };
}

export interface RunBatchOptions {
  executor: Executor;
  /** Overrides the plan's concurrency. */
  concurrency?: number;
  /** Overrides the plan's budget (USD). */
  budgetUsd?: number;
  /** Overrides the plan's wall-time limit (seconds, counted from this invocation's start). */
  wallTimeSec?: number;
  signal?: AbortSignal;
  onProgress?: (snapshot: ProgressSnapshot) => void;
  /**
   * Look at run folders under the batch folder to keep finished runs. False when logs live on workers (a
   * queue batch): then, without a budget to enforce, every run is queued at once and the workers'
   * own concurrency decides; with one, at most `concurrency` runs are queued or running at a time.
   */
  inspectLocal?: boolean;
  /** Removes credentials from the summary's texts (run errors) before it is written (`batchRedactor`). */
  redact?: (text: string) => string;
}

/**
 * Run (or continue) a batch: runs whose folder shows an ending are kept, the others start or resume.
 * Writes summary.json and summary.md into the batch folder at the end (`summaryError` says when it could not).
 */
export async function runBatch(manifest: Manifest, batchDir: string, options: RunBatchOptions): Promise<WrittenSummary> {
  const { plan } = manifest;
  if (options.inspectLocal === false && manifest.runs.some((r) => r.fork)) {
    throw new InputError(`batch ${manifest.batchId} forks runs, and a fork reads its parent's log from this machine: run it here (without --queue, or with --local)`);
  }
  const finished: RunOutcome[] = [];
  const pending: Manifest['runs'] = [];
  for (const run of manifest.runs) {
    const runDir = join(batchDir, run.runId);
    // A log that cannot be continued (turns missing or repeated) is reported as a failed run, not retried.
    const found = options.inspectLocal === false ? { kind: 'new' as const, logExists: false } : await inspectRun(runDir).catch((err: unknown) => ({ kind: 'broken' as const, err }));
    if (found.kind === 'finished') finished.push(found.outcome);
    else if (found.kind === 'broken') {
      finished.push({ runId: run.runId, runDir, status: 'failed', stopReason: 'unreadable_log', turns: 0, costUsd: 0, resumed: false, error: found.err instanceof Error ? found.err.message : String(found.err) });
    } else pending.push(run);
  }
  const maxCostUsd = options.budgetUsd ?? plan.budget?.maxCostUsd;
  const result = await schedule({
    pending,
    finished,
    planned: manifest.runs.length,
    concurrency: options.concurrency ?? (options.inspectLocal === false && maxCostUsd === undefined ? manifest.runs.length : plan.concurrency),
    ...(maxCostUsd !== undefined ? { budget: { maxCostUsd, ...(plan.budget?.estimatePerRunUsd !== undefined ? { estimatePerRunUsd: plan.budget.estimatePerRunUsd } : {}) } } : {}),
    ...((options.wallTimeSec ?? plan.limits.wallTimeSec) !== undefined ? { wallTimeSec: options.wallTimeSec ?? plan.limits.wallTimeSec } : {}),
    executor: options.executor,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  const built = buildSummary(manifest, batchDir, [...finished, ...result.outcomes], result.skipped, result.stoppedBy);
  const redact = options.redact;
  const summary = redact ? { ...built, results: built.results.map((r) => (r.error === undefined ? r : { ...r, error: redact(r.error) })) } : built;
  const summaryError = writeSummary(batchDir, summary);
  return summaryError ? { ...summary, summaryError } : summary;
}
