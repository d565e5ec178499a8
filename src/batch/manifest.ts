import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ScenarioSchema, type Scenario } from '../arena/scenario.js';
import { InputError } from '../errors.js';
import { formatPath } from '../format-path.js';
import { publicPlan, publicScenarioRecord, restoreUrls, type EndpointUrls } from './_credentials.js';
import { cellScenario, CellSchema, ForkEntrySchema, type BaseScenario, type Cell } from './expand.js';
import { BatchPlanSchema, type BatchPlan } from './plan.js';

export const MANIFEST_FILE = 'batch.json';

const runFields = {
  runId: z.string().min(1),
  cell: CellSchema,
  /** Folder relative paths in the scenario (markov corpora, replayed runs) resolve against. */
  scenarioDir: z.string(),
  /** Index of the run's base scenario in the manifest's `scenarios` (version 2). */
  scenarioRef: z.number().int().nonnegative().optional(),
  /** The run forks another (see ForkEntrySchema). */
  fork: ForkEntrySchema.optional(),
};

/**
 * One planned run as the program uses it: enough to start it on any machine. A queue job carries one
 * (see queue/connection.ts), and a worker checks its scenario when the job arrives.
 */
export const ManifestRunSchema = z.object({
  ...runFields,
  /** The scenario with the pairing and parameters applied. */
  scenario: ScenarioSchema,
});
export type ManifestRun = z.infer<typeof ManifestRunSchema>;

/** A run in batch.json version 1: its whole scenario as stored, checked when the manifest is opened. */
const StoredRunV1Schema = z.object({ ...runFields, scenario: z.record(z.string(), z.unknown()) });

/** A base scenario in batch.json (version 2): a scenario file with a pairing seated and the plan's turn limit. */
const StoredScenarioSchema = z.object({ scenario: z.record(z.string(), z.unknown()), scenarioDir: z.string() });

/** A run in batch.json version 2: its cell and the base scenario its seed and temperature apply to. */
const StoredRunSchema = z.object({ runId: z.string().min(1), cell: CellSchema, scenarioRef: z.number().int().nonnegative(), fork: ForkEntrySchema.optional() });

const header = {
  kind: z.literal('arena.batch'),
  batchId: z.string().min(1),
  createdAt: z.string(),
  planFile: z.string(),
  /** The plan as validated, credentials removed (version 2). */
  plan: z.record(z.string(), z.unknown()),
  /** Queue name when the runs go through Redis (the URL is not stored: it may hold a password). */
  queue: z.string().optional(),
};

/** batch.json as the first versions wrote it: every run with its whole scenario. Still read. */
const ManifestV1Schema = z.object({ v: z.literal(1), ...header, runs: z.array(StoredRunV1Schema) });

/**
 * batch.json version 2: each distinct base scenario once, and one line per run with its cell and the
 * index of its base, so the file grows by a short line per run, not a scenario. No credentials: endpoint
 * URLs keep neither passwords nor query values (`batch resume` takes them from the plan file again).
 */
const ManifestV2Schema = z.object({
  v: z.literal(2),
  ...header,
  scenarios: z.array(StoredScenarioSchema),
  runs: z.array(StoredRunSchema),
});
type StoredManifest = z.infer<typeof ManifestV1Schema> | z.infer<typeof ManifestV2Schema>;

/**
 * `<batchDir>/batch.json`, written before any run starts: the plan and every planned cell. Resume, collect
 * and the summary work from it; it is never rewritten, so a kill cannot corrupt it. In memory every run
 * carries its scenario (built from its base, sharing what it does not change); on disk version 2 stores
 * each base once. Parsing accepts both versions.
 */
export const ManifestSchema = z.union([ManifestV1Schema, ManifestV2Schema]).transform((stored) => resolveManifest(stored));

/** A batch manifest as the program uses it: the plan and every scenario checked once, when it was opened. */
export interface Manifest {
  v: 1 | 2;
  kind: 'arena.batch';
  batchId: string;
  createdAt: string;
  planFile: string;
  /** As stored (credentials removed), validated. */
  plan: BatchPlan;
  queue?: string;
  /** Base scenarios (version 2; empty for a version 1 file, whose runs carry whole scenarios). */
  scenarios: BaseScenario[];
  runs: ManifestRun[];
}

/**
 * The in-memory manifest of a stored one, every scenario in it checked here and nowhere else: each base
 * scenario once (a run's scenario is its base with the cell's seed and temperature, valid by construction),
 * or each run's for a version 1 file. `urls` puts back the real endpoint URLs batch.json keeps without
 * credentials (taken from the plan again, see `openManifest`).
 */
export function resolveManifest(stored: StoredManifest, urls?: EndpointUrls): Manifest {
  const plan = checkedPlan(stored.plan);
  const head = {
    kind: stored.kind,
    batchId: stored.batchId,
    createdAt: stored.createdAt,
    planFile: stored.planFile,
    plan,
    ...(stored.queue !== undefined ? { queue: stored.queue } : {}),
  };
  if (stored.v === 1) {
    const runs = stored.runs.map((r): ManifestRun => ({ ...r, scenario: checkedScenario(r.scenario, `run ${r.runId}: the scenario`) }));
    return { v: 1, ...head, scenarios: [], runs };
  }
  const bases = stored.scenarios.map((b, i) => ({
    scenario: checkedScenario(urls ? restoreUrls(b.scenario, i, urls) : b.scenario, `scenarios[${i}]`),
    scenarioDir: b.scenarioDir,
    agentsByTemperature: new Map<number, Scenario['agents']>(),
  }));
  const runs = stored.runs.map((r): ManifestRun => {
    const base = bases[r.scenarioRef];
    if (!base) throw new InputError(`run ${r.runId} of the batch manifest refers to scenario ${r.scenarioRef}, which it does not hold`);
    const scenario = cellScenario(base.scenario, r.cell, base.agentsByTemperature);
    return { runId: r.runId, cell: r.cell, scenario, scenarioDir: base.scenarioDir, scenarioRef: r.scenarioRef, ...(r.fork ? { fork: r.fork } : {}) };
  });
  return { v: 2, ...head, scenarios: bases.map((b) => ({ scenario: b.scenario, scenarioDir: b.scenarioDir })), runs };
}

/** A stored scenario, validated; `what` names it in the error (`scenarios[0]`, `run <id>: the scenario`). */
function checkedScenario(raw: Record<string, unknown>, what: string): Scenario {
  const parsed = ScenarioSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(`${what} of the batch manifest is not valid: ${formatPath(issue.path)}: ${issue.message}`);
  }
  return parsed.data;
}

function checkedPlan(raw: Record<string, unknown>): BatchPlan {
  const parsed = BatchPlanSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(`the plan in the batch manifest is not valid: ${formatPath(issue.path)}: ${issue.message}`);
  }
  return parsed.data;
}

/**
 * batch.json's text. Version 2 writes each base scenario once and a line per run; credentials in endpoint
 * URLs are removed from the plan and the scenarios, as the run logs remove them.
 */
export function manifestText(manifest: Manifest): string {
  if (manifest.v === 1) return JSON.stringify(redactManifestV1(manifest), null, 2) + '\n';
  const head = {
    v: 2,
    kind: manifest.kind,
    batchId: manifest.batchId,
    createdAt: manifest.createdAt,
    planFile: manifest.planFile,
    plan: publicPlan(manifest.plan),
    ...(manifest.queue !== undefined ? { queue: manifest.queue } : {}),
    scenarios: manifest.scenarios.map((b) => ({ scenario: publicScenarioRecord(b.scenario), scenarioDir: b.scenarioDir })),
  };
  const lines = manifest.runs.map((r) => {
    if (r.scenarioRef === undefined) throw new Error(`run ${r.runId} has no base scenario: a version 2 manifest needs one per run`);
    return JSON.stringify({ runId: r.runId, cell: r.cell, scenarioRef: r.scenarioRef, ...(r.fork ? { fork: r.fork } : {}) });
  });
  const json = JSON.stringify(head, null, 2);
  return `${json.slice(0, -2)},\n  "runs": [\n${lines.map((l) => `    ${l}`).join(',\n')}\n  ]\n}\n`;
}

function redactManifestV1(manifest: Manifest): Record<string, unknown> {
  const { scenarios: _none, ...rest } = manifest;
  return {
    ...rest,
    plan: publicPlan(manifest.plan),
    runs: manifest.runs.map((r) => ({ runId: r.runId, cell: r.cell, scenario: publicScenarioRecord(r.scenario), scenarioDir: r.scenarioDir })),
  };
}

/** Write a JSON file whole or not at all (temp file + rename). */
export function writeJsonAtomic(file: string, value: unknown): void {
  writeTextAtomic(file, JSON.stringify(value, null, 2) + '\n');
}

function writeTextAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

export function writeManifest(batchDir: string, manifest: Manifest): void {
  mkdirSync(batchDir, { recursive: true });
  writeTextAtomic(join(batchDir, MANIFEST_FILE), manifestText(manifest));
}

/** Read and check batch.json as stored (credentials removed), without building the runs yet. */
export function readStoredManifest(batchDir: string): StoredManifest {
  const file = join(batchDir, MANIFEST_FILE);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`${file}: ${code === 'ENOENT' ? 'no batch manifest here (is this a batch folder?)' : `cannot read (${code ?? (err as Error).message})`}`, { cause: err });
  }
  const parsed = z.union([ManifestV1Schema, ManifestV2Schema]).safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(`${file}: not a batch manifest: ${formatPath(issue.path)}: ${issue.message}`);
  }
  return parsed.data;
}
export type { StoredManifest };

/** batch.json as the program uses it; `urls` puts back the endpoint credentials the file does not keep. */
export function readManifest(batchDir: string, urls?: EndpointUrls): Manifest {
  const stored = readStoredManifest(batchDir);
  try {
    return resolveManifest(stored, urls);
  } catch (err) {
    if (err instanceof InputError) throw new InputError(`${join(batchDir, MANIFEST_FILE)}: ${err.message}`, { cause: err });
    throw err;
  }
}

/** The `meta` of a batch run's run.started (a forked run adds `fork`, see src/fork/fork-meta.ts). */
export function runMeta(batchId: string, cell: Cell): Record<string, unknown> {
  return { batchId, cell };
}

