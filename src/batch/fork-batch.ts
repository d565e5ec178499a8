import { randomBytes } from 'node:crypto';
import { basename, dirname, relative, resolve } from 'node:path';
import type { Scenario } from '../arena/scenario.js';
import { childSeed, conditionOf, type Perturbation } from '../fork/fork-meta.js';
import type { ParentLog } from '../fork/fork-log.js';
import type { Cell, PlannedRun } from './expand.js';
import type { LoadedPlan } from './load-plan.js';
import { BatchPlanSchema } from './plan.js';

/** What `arena fork` asks for. */
export interface ForkRequest {
  parent: ParentLog;
  /** The parent's run folder. */
  parentRunDir: string;
  /** Fork turns, each with `samples` children. */
  atTurns: readonly number[];
  samples: number;
  perturbation: Perturbation | null;
  /** The children's scenario before their seed: the parent's with the requested agents and turn limit. */
  scenario: Scenario;
  /** Where the scenario's relative paths resolve (the parent's scenario folder). */
  scenarioDir: string;
  /** Children's seeds derive from this (default: the parent's seed). */
  baseSeed: number;
  /** The batch folder to write (default `<runsDir>/fork-<parentRunId>-<UTC time>`). */
  batchDir?: string;
  runsDir: string;
  concurrency?: number;
  budgetUsd?: number;
  now?: Date;
}

/** The default folder of a fork batch: `fork-<parentRunId>-<UTC time>` under the runs dir. */
export function forkBatchDir(runsDir: string, parentRunId: string, now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return resolve(runsDir, `fork-${parentRunId}-${stamp}`);
}

/**
 * The batch `arena fork` runs, as a loaded plan for `createBatch`: one base scenario and, per fork turn, the
 * samples as runs `<parentRunId>-t<turn>-s<sample>-<tag>` (the tag, random per fork batch, keeps the ids of
 * two forks of one parent apart). Their cells have the parent's scenario, repetition = sample, the child seed
 * and `fork`; their manifest entries say where the parent is, relative to the batch folder.
 */
export function forkBatchPlan(request: ForkRequest): { loaded: LoadedPlan; batchId: string; runsDir: string } {
  const now = request.now ?? new Date();
  const batchDir = request.batchDir ?? forkBatchDir(request.runsDir, request.parent.started.runId, now);
  const batchId = basename(batchDir);
  const parentRunId = request.parent.started.runId;
  const tag = randomBytes(2).toString('hex');
  const plan = BatchPlanSchema.parse({
    name: batchId,
    scenarios: [request.parent.file],
    ...(request.concurrency !== undefined ? { concurrency: request.concurrency } : {}),
    ...(request.budgetUsd !== undefined ? { budget: { maxCostUsd: request.budgetUsd } } : {}),
  });
  const scenarioFile = request.parent.started.scenarioFile ?? '';
  const condition = conditionOf(request.perturbation);
  const runs: PlannedRun[] = [];
  for (const atTurn of request.atTurns) {
    for (let sample = 1; sample <= request.samples; sample++) {
      const cell: Cell = {
        index: runs.length + 1,
        scenario: request.scenario.name,
        scenarioFile,
        pairing: null,
        repetition: sample,
        seed: childSeed(request.baseSeed, atTurn, sample),
        fork: { parentRunId, atTurn, condition },
      };
      runs.push({
        runId: `${parentRunId}-t${atTurn}-s${sample}-${tag}`,
        cell,
        scenario: { ...request.scenario, seed: cell.seed },
        scenarioDir: request.scenarioDir,
        scenarioRef: 0,
        fork: { parentRunId, parentDir: relative(batchDir, request.parentRunDir) || '.', atTurn, sample, perturbation: request.perturbation, baseSeed: request.baseSeed },
      });
    }
  }
  const loaded: LoadedPlan = {
    file: request.parent.file,
    name: batchId,
    plan,
    scenarios: [],
    bases: [{ scenario: request.scenario, scenarioDir: request.scenarioDir }],
    runs,
    warnings: [],
  };
  return { loaded, batchId, runsDir: dirname(batchDir) };
}
