import { InputError } from '../errors.js';
import { credentialUrls, unrestorable } from './_credentials.js';
import { loadPlan } from './load-plan.js';
import { MANIFEST_FILE, readStoredManifest, resolveManifest, type Manifest } from './manifest.js';
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
  const needed = unrestorable(bases, new Map());
  if (needed.length === 0) return resolveManifest(stored);
  const from = planFile ?? stored.planFile;
  const where = `${join(batchDir, MANIFEST_FILE)} keeps no credentials, and the endpoint ${needed[0]} needs them`;
  let urls: Map<string, string>;
  try {
    const loaded = await loadPlan(from, { maxRuns: Number.POSITIVE_INFINITY });
    urls = credentialUrls(loaded.bases.map((b) => b.scenario as unknown as Record<string, unknown>));
  } catch (err) {
    throw new InputError(`${where}; they are read from the plan again, but ${err instanceof Error ? err.message : String(err)} (pass --plan FILE with the plan the batch was started with)`, { cause: err });
  }
  const missing = unrestorable(bases, urls);
  if (missing.length > 0) {
    throw new InputError(`${join(batchDir, MANIFEST_FILE)} keeps no credentials, and ${from} no longer gives the endpoint ${missing[0]}; pass --plan FILE with the plan the batch was started with`);
  }
  return resolveManifest(stored, urls);
}
