import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ScenarioSchema, type Scenario } from '../arena/scenario.js';
import { InputError } from '../errors.js';
import { formatPath } from '../format-path.js';
import { CellSchema, type Cell } from './expand.js';
import { BatchPlanSchema, type BatchPlan } from './plan.js';

export const MANIFEST_FILE = 'batch.json';

/** One planned run as the manifest keeps it: enough to start it on any machine. */
export const ManifestRunSchema = z.object({
  runId: z.string().min(1),
  cell: CellSchema,
  /** The scenario with the pairing and parameters applied. */
  scenario: z.record(z.string(), z.unknown()),
  /** Folder relative paths in the scenario (markov corpora, replayed runs) resolve against. */
  scenarioDir: z.string(),
});
export type ManifestRun = z.infer<typeof ManifestRunSchema>;

/**
 * `<batchDir>/batch.json`, written before any run starts: the plan and every planned cell. Resume, collect
 * and the summary work from it; it is never rewritten, so a kill cannot corrupt it.
 */
export const ManifestSchema = z.object({
  v: z.literal(1),
  kind: z.literal('arena.batch'),
  batchId: z.string().min(1),
  createdAt: z.string(),
  planFile: z.string(),
  plan: z.record(z.string(), z.unknown()),
  /** Queue name when the runs go through Redis (the URL is not stored: it may hold a password). */
  queue: z.string().optional(),
  runs: z.array(ManifestRunSchema),
});
export type Manifest = z.infer<typeof ManifestSchema>;

/** Write a JSON file whole or not at all (temp file + rename). */
export function writeJsonAtomic(file: string, value: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n');
  renameSync(tmp, file);
}

export function writeManifest(batchDir: string, manifest: Manifest): void {
  mkdirSync(batchDir, { recursive: true });
  writeJsonAtomic(join(batchDir, MANIFEST_FILE), manifest);
}

export function readManifest(batchDir: string): Manifest {
  const file = join(batchDir, MANIFEST_FILE);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`${file}: ${code === 'ENOENT' ? 'no batch manifest here (is this a batch folder?)' : `cannot read (${code ?? (err as Error).message})`}`, { cause: err });
  }
  const parsed = ManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(`${file}: not a batch manifest: ${formatPath(issue.path)}: ${issue.message}`);
  }
  return parsed.data;
}

export function manifestPlan(manifest: Manifest): BatchPlan {
  return BatchPlanSchema.parse(manifest.plan);
}

/** The validated scenario of a planned run. */
export function runScenarioOf(run: ManifestRun): Scenario {
  const known = checked.get(run.scenario);
  if (known) return known;
  const parsed = ScenarioSchema.safeParse(run.scenario);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(`run ${run.runId}: the scenario in the batch manifest is not valid: ${formatPath(issue.path)}: ${issue.message}`);
  }
  checked.set(run.scenario, parsed.data);
  return parsed.data;
}

/** Manifest scenarios already checked (or built from checked scenarios): a batch need not parse each twice. */
const checked = new WeakMap<object, Scenario>();

/** Record that a manifest run's scenario is a checked Scenario (createBatch builds the manifest from them). */
export function markChecked(scenario: Record<string, unknown>, parsed: Scenario): void {
  checked.set(scenario, parsed);
}

/** The `meta` of a batch run's run.started. */
export function runMeta(batchId: string, cell: Cell): Record<string, unknown> {
  return { batchId, cell };
}
