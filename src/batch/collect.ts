import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError } from '../errors.js';
import { ManifestSchema, MANIFEST_FILE, readManifest, writeManifest, type Manifest } from './manifest.js';
import type { RunOutcome } from './outcome.js';
import { inspectRun } from './start-or-resume.js';
import { buildSummary, writeSummary, type WrittenSummary } from './summary.js';

/** The manifest from the local batch folder, else from Redis (where `arena batch --queue` leaves a copy). */
async function findManifest(batchDir: string, batchId: string, queue: string | undefined): Promise<Manifest> {
  if (existsSync(join(batchDir, MANIFEST_FILE))) return readManifest(batchDir);
  if (!queue) throw new InputError(`${batchDir}: no batch manifest here; pass --queue so it can be read from Redis, or the --runs-dir the batch was started with`);
  const { Redis } = await import('ioredis');
  const { connectionOptions, manifestKey, parseRedisUrl } = await import('./queue/connection.js');
  const redis = new Redis(connectionOptions(parseRedisUrl(queue)));
  try {
    const text = await redis.get(manifestKey(batchId));
    if (!text) throw new InputError(`no batch ${batchId} on ${queue}`);
    const manifest = ManifestSchema.parse(JSON.parse(text));
    writeManifest(batchDir, manifest);
    return manifest;
  } finally {
    redis.disconnect();
  }
}

/**
 * Gather the run folders of a batch from workers' runs dirs into `<runsDir>/<batchId>/`. Of several copies
 * of a run the one that got furthest wins (a finished one over an interrupted one). Writes the summary.
 */
export async function collectBatch(options: { batchId: string; from: string[]; runsDir: string; queue?: string }): Promise<{ copied: number; batchDir: string; summary: WrittenSummary }> {
  const batchDir = resolve(options.runsDir, options.batchId);
  mkdirSync(batchDir, { recursive: true });
  const manifest = await findManifest(batchDir, options.batchId, options.queue);
  const outcomes: RunOutcome[] = [];
  let copied = 0;
  for (const run of manifest.runs) {
    const dest = join(batchDir, run.runId);
    let best: { dir: string; rank: number; turns: number; outcome?: RunOutcome } | undefined;
    for (const root of [options.runsDir, ...options.from]) {
      const dir = resolve(root, options.batchId, run.runId);
      const found = await inspectRun(dir).catch(() => undefined);
      if (!found || found.kind === 'new') continue;
      const rank = found.kind === 'finished' ? 2 : 1;
      const turns = found.kind === 'finished' ? found.outcome.turns : found.state.turn;
      if (!best || rank > best.rank || (rank === best.rank && turns > best.turns)) {
        best = { dir, rank, turns, ...(found.kind === 'finished' ? { outcome: { ...found.outcome, runDir: dest } } : {}) };
      }
    }
    if (!best) continue;
    if (best.dir !== dest) {
      cpSync(best.dir, dest, { recursive: true });
      copied++;
    }
    if (best.outcome) outcomes.push(best.outcome);
    else {
      const again = await inspectRun(dest);
      if (again.kind === 'resumable') {
        outcomes.push({ runId: run.runId, runDir: dest, status: 'interrupted', stopReason: 'interrupted', turns: again.state.turn, costUsd: again.state.totals.costUsd, resumed: false });
      }
    }
  }
  const built = buildSummary(manifest, batchDir, outcomes, [], undefined);
  const summaryError = writeSummary(batchDir, built);
  return { copied, batchDir, summary: summaryError ? { ...built, summaryError } : built };
}
