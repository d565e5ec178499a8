import { InputError } from '../errors.js';
import { EndpointUrls, unrestorable } from './_credentials.js';
import { loadPlan } from './load-plan.js';
import { MANIFEST_FILE, readStoredManifest, resolveManifest, type Manifest, type StoredManifest } from './manifest.js';
import { inspectRun } from './start-or-resume.js';
import { join } from 'node:path';

/**
 * A batch's manifest for running it again (`arena batch resume`). batch.json keeps no credentials: endpoint
 * URLs that had a password or query values are read again from the plan file the batch was started with
 * (or `planFile`, when it has moved). Says which endpoint and which file when they cannot be found.
 */
export async function openManifest(batchDir: string, planFile?: string): Promise<Manifest> {
  const stored = readStoredManifest(batchDir);
  if (stored.v === 1) return resolveManifest(stored);
  const bases = stored.scenarios.map((s) => s.scenario);
  const needed = unrestorable(bases, new EndpointUrls([]));
  if (needed.length === 0) return resolveManifest(stored);
  const from = planFile ?? stored.planFile;
  let urls: EndpointUrls;
  try {
    const loaded = await loadPlan(from, { maxRuns: Number.POSITIVE_INFINITY });
    urls = EndpointUrls.of(loaded.bases.map((b) => b.scenario));
  } catch (err) {
    const [missing] = await stillNeeded(batchDir, stored, new EndpointUrls([]));
    if (missing === undefined) return resolveManifest(stored);
    const why = err instanceof Error ? err.message : String(err);
    throw new InputError(
      `${join(batchDir, MANIFEST_FILE)} keeps no credentials, and the endpoint ${missing} needs them; they are read from the plan again, but ${why} (pass --plan FILE with the plan the batch was started with)`,
      { cause: err },
    );
  }
  const [missing] = await stillNeeded(batchDir, stored, urls);
  if (missing !== undefined) {
    throw new InputError(`${join(batchDir, MANIFEST_FILE)} keeps no credentials, and ${from} no longer gives the endpoint ${missing}; pass --plan FILE with the plan the batch was started with`);
  }
  return resolveManifest(stored, urls);
}

/**
 * Endpoints `urls` cannot restore that a run still to be started or continued needs. A run whose folder
 * shows it finished needs nothing: a batch whose credentialed runs are all done resumes without the plan.
 */
async function stillNeeded(batchDir: string, stored: Extract<StoredManifest, { v: 2 }>, urls: EndpointUrls): Promise<string[]> {
  const lacking = stored.scenarios.map((b, i) => unrestorable([b.scenario], urls, [i]));
  const missing = new Set<string>();
  for (const run of stored.runs) {
    const lacks = lacking[run.scenarioRef] ?? [];
    if (lacks.length === 0 || lacks.every((u) => missing.has(u))) continue;
    const found = await inspectRun(join(batchDir, run.runId)).catch(() => undefined);
    if (found?.kind !== 'finished') for (const u of lacks) missing.add(u);
  }
  return [...missing];
}
