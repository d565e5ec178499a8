import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, resolve } from 'node:path';
import { parseYamlSource } from '../yaml-source.js';
import { describeIssue, loadScenario } from '../arena/load-scenario.js';
import { InputError, ScenarioError } from '../errors.js';
import { formatPath } from '../format-path.js';
import { countPlannedRuns, expandPlanShared, SeatError, type BaseScenario, type PlannedRun, type PlanScenario } from './expand.js';
import { BatchPlanSchema, type BatchPlan } from './plan.js';
import { identicalRepetitionWarnings } from './_repetition-warnings.js';
import { countForkRuns, expandForks } from './expand-forks.js';

/** A plan file that does not parse or validate; the message names file:line:col, the path and the problem. */
export class PlanError extends ScenarioError {
  override name = 'PlanError';
}

/** A validated plan, its scenarios and the runs it expands to. */
export interface LoadedPlan {
  file: string;
  /** `name` from the plan, else the file name without extension. */
  name: string;
  plan: BatchPlan;
  scenarios: PlanScenario[];
  /** The distinct scenarios the runs are built from (each scenario file × pairing, turn limit applied). */
  bases: BaseScenario[];
  runs: PlannedRun[];
  /** Things worth saying before the batch starts (repetitions that can only give identical runs). */
  warnings: string[];
}

/**
 * The most runs a plan may expand to unless the caller allows more (`arena batch --max-runs N`). Each run
 * costs memory while the batch runs and a line in batch.json; a plan far beyond this is almost always a typo.
 */
export const DEFAULT_MAX_RUNS = 100_000;

export interface ParsePlanOptions {
  /** Refuse plans of more runs than this (default DEFAULT_MAX_RUNS), before expanding them. */
  maxRuns?: number;
}

/** A plan that expands to more runs than allowed. */
export class PlanTooLargeError extends InputError {
  override name = 'PlanTooLargeError';
}

/** Parse and validate plan text; scenario files are read relative to the plan file. */
export async function parsePlan(text: string, file: string, options: ParsePlanOptions = {}): Promise<LoadedPlan> {
  const source = parseYamlSource(text, file, (at, problem, cause) => {
    throw new PlanError(at, '', problem, { cause });
  });
  const raw = source.raw;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new PlanError(file, '', 'expected a mapping with scenarios (and models, pairings, repetitions …) at the top level');
  }
  const parsed = BatchPlanSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const { path, problem } = describeIssue(issue, raw);
    throw new PlanError(source.locate(path, { key: issue.code === 'unrecognized_keys' }), formatPath(path), problem);
  }
  const plan = parsed.data;
  const dir = dirname(resolve(file));
  const scenarios: PlanScenario[] = [];
  for (const [i, rel] of plan.scenarios.entries()) {
    try {
      const loaded = await loadScenario(resolve(dir, rel));
      scenarios.push({ file: loaded.file, dir: loaded.dir, scenario: loaded.scenario });
    } catch (err) {
      if (err instanceof ScenarioError && err.problem === 'no such file') {
        throw new PlanError(source.locate(['scenarios', i]), `scenarios[${i}]`, `no such scenario file ${resolve(dir, rel)}`, { cause: err });
      }
      throw err;
    }
  }
  let expanded: { bases: BaseScenario[]; runs: PlannedRun[] };
  try {
    const parents = countPlannedRuns(plan, scenarios);
    const count = parents + countForkRuns(plan.forks, parents);
    const maxRuns = options.maxRuns ?? DEFAULT_MAX_RUNS;
    if (count > maxRuns) {
      throw new PlanTooLargeError(
        `${file}: the plan expands to ${count.toLocaleString('en-US')} runs, more than the limit of ${maxRuns.toLocaleString('en-US')}; lower repetitions or parameters, or raise the limit with --max-runs ${count}`,
      );
    }
    const shared = expandForks(plan, expandPlanShared(plan, scenarios));
    expanded = { bases: shared.scenarios, runs: shared.runs };
  } catch (err) {
    if (err instanceof SeatError) throw new PlanError(source.locate(err.path), formatPath(err.path), err.message, { cause: err });
    throw err;
  }
  const warnings = identicalRepetitionWarnings(plan, expanded.bases, expanded.runs);
  return { file: resolve(file), name: plan.name ?? basename(file, extname(file)), plan, scenarios, ...expanded, warnings };
}

export async function loadPlan(file: string, options: ParsePlanOptions = {}): Promise<LoadedPlan> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new PlanError(file, '', code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? String(err)})`, { cause: err });
  }
  return parsePlan(text, file, options);
}
