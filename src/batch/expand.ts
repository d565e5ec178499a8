import { z } from 'zod';
import { ScenarioSchema, type Scenario } from '../arena/scenario.js';
import type { BatchPlan, ModelEntry } from './plan.js';
import { PerturbationSchema } from '../fork/fork-meta.js';

/** Which cell of the batch matrix a run is; recorded in run.started as `meta.cell`. */
export const CellSchema = z.object({
  /** 1-based position in the plan's order. */
  index: z.number().int().positive(),
  scenario: z.string(),
  scenarioFile: z.string(),
  /** Model ids by seat (scenario agent order), or null when the scenario's own agents play. */
  pairing: z.array(z.string()).nullable(),
  repetition: z.number().int().positive(),
  temperature: z.number().optional(),
  seed: z.number().int(),
  /** A forked run's cell: its parent, fork turn and condition (`conditionOf` its perturbation). */
  fork: z.object({ parentRunId: z.string(), atTurn: z.number().int().positive(), condition: z.string() }).optional(),
});
export type Cell = z.infer<typeof CellSchema>;

/**
 * A planned run that forks another (`arena fork`, a plan's `forks`): it copies the parent's first `atTurn`
 * turns from `<batchDir>/<parentDir>/events.jsonl` when it starts, then continues. A parent in the same batch
 * (`parentDir` is its runId) runs first.
 */
export const ForkEntrySchema = z.object({
  parentRunId: z.string().min(1),
  /** The parent's run folder, relative to the batch folder. */
  parentDir: z.string().min(1),
  atTurn: z.number().int().positive(),
  sample: z.number().int().positive(),
  perturbation: PerturbationSchema.nullable(),
  /** What the child's seed was derived from (`childSeed`); the parent's seed when left out. */
  baseSeed: z.number().int().optional(),
});
export type ForkEntry = z.infer<typeof ForkEntrySchema>;

/** A scenario file as the batch read it. */
export interface PlanScenario {
  file: string;
  dir: string;
  scenario: Scenario;
}

/** One planned run: its cell, run id and the scenario it runs (pairing and parameters applied). */
export interface PlannedRun {
  runId: string;
  cell: Cell;
  scenario: Scenario;
  scenarioDir: string;
  /** Index of the run's base scenario in `ExpandedPlan.scenarios`. */
  scenarioRef: number;
  /** Set when the run is a fork of another. */
  fork?: ForkEntry;
}

/**
 * A scenario as a batch runs it before the per-run parameters: one scenario file with one pairing in its
 * seats and the plan's turn limit. Runs differ from it only by the seed and temperature of their cell.
 */
export interface BaseScenario {
  scenario: Scenario;
  scenarioDir: string;
}

/** A plan expanded: each distinct base scenario once, and the runs that refer to them. */
export interface ExpandedPlan {
  scenarios: BaseScenario[];
  runs: PlannedRun[];
}

/** Thrown by `seatModels` when a model does not fit a scenario; the loader turns it into file:line. */
export class SeatError extends Error {
  constructor(
    message: string,
    readonly path: readonly PropertyKey[],
  ) {
    super(message);
  }
}

function slug(text: string, max = 24): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, max) || 'x';
}

/** The pairings of a plan for a scenario with `seats` agents, each a list of model ids by seat. */
export function pairingsFor(plan: BatchPlan, seats: number, scenarioIndex: number): (string[] | null)[] {
  if (plan.models.length === 0) return [null];
  const p = plan.pairings ?? { selfPlay: true, mixedPlay: false, pairs: [] };
  const out: string[][] = [];
  const seen = new Set<string>();
  const add = (pair: string[]) => {
    const key = pair.join('\u0000');
    if (!seen.has(key)) out.push(pair), seen.add(key);
  };
  if (p.selfPlay) for (const m of plan.models) add(Array.from({ length: seats }, () => m.id));
  if (p.mixedPlay) {
    if (seats !== 2) throw new SeatError(`mixedPlay pairs two models, but scenario ${scenarioIndex + 1} has ${seats} agents`, ['pairings', 'mixedPlay']);
    for (let i = 0; i < plan.models.length; i++) {
      for (let j = i + 1; j < plan.models.length; j++) add([plan.models[i]!.id, plan.models[j]!.id]);
    }
  }
  p.pairs.forEach((pair, i) => {
    if (pair.length !== seats) {
      throw new SeatError(`this pairing names ${pair.length} models, but scenario ${scenarioIndex + 1} has ${seats} agents`, ['pairings', 'pairs', i]);
    }
    add(pair);
  });
  return out;
}

/** Put models in a scenario's seats: each agent keeps its id, name, persona, openings and stops. */
export function seatModels(scenario: Scenario, models: readonly ModelEntry[], pairing: readonly string[]): Scenario {
  const agents = scenario.agents.map((agent, seat) => {
    const modelIndex = models.findIndex((m) => m.id === pairing[seat]);
    const { id: _modelId, ...backendFields } = models[modelIndex]!;
    const kept: Record<string, unknown> = { id: agent.id };
    for (const key of ['name', 'persona', 'sampling', 'opening', 'kickoff', 'stop'] as const) {
      if (agent[key] !== undefined) kept[key] = agent[key];
    }
    return { modelIndex, spec: { ...kept, ...backendFields } };
  });
  const result = ScenarioSchema.safeParse({ ...scenario, agents: agents.map((a) => a.spec) });
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const seat = typeof issue.path[1] === 'number' ? issue.path[1] : 0;
  const field = issue.path.slice(2).map(String).join('.');
  throw new SeatError(
    `model '${pairing[seat]}' in seat '${scenario.agents[seat]?.id}' of scenario '${scenario.name}': ${field ? `${field}: ` : ''}${issue.message}`,
    ['models', agents[seat]?.modelIndex ?? 0, ...issue.path.slice(2)],
  );
}

/**
 * The scenario of one cell: its base with the cell's seed and temperature. Runs of one base share every
 * part they do not change (the agents too, per temperature, through `agentsByTemperature`), so a large
 * plan holds each base scenario once however many runs it has.
 */
export function cellScenario(base: Scenario, cell: Pick<Cell, 'seed' | 'temperature'>, agentsByTemperature?: Map<number, Scenario['agents']>): Scenario {
  const t = cell.temperature;
  if (t === undefined) return { ...base, seed: cell.seed };
  let agents = agentsByTemperature?.get(t);
  if (!agents) {
    agents = base.agents.map((a) => ({ ...a, sampling: { ...(a.sampling ?? {}), temperature: t } }) as typeof a);
    agentsByTemperature?.set(t, agents);
  }
  return { ...base, seed: cell.seed, agents };
}

/** How many runs a plan expands to, counted without expanding it (a plan of 10^8 runs is refused this way). */
export function countPlannedRuns(plan: BatchPlan, scenarios: readonly PlanScenario[]): number {
  const perPairing = (plan.parameters.temperature?.length ?? 1) * (plan.parameters.seed?.length ?? 1) * plan.repetitions;
  return scenarios.reduce((n, s, si) => n + pairingsFor(plan, s.scenario.agents.length, si).length * perPairing, 0);
}

/**
 * Cross scenarios × pairings × temperatures × seeds × repetitions, in that nesting order.
 * Run ids are derived from the cell (`0007-bliss-opus-sonnet-r2`), so a resumed batch finds its runs again.
 */
export function expandPlan(plan: BatchPlan, scenarios: readonly PlanScenario[]): PlannedRun[] {
  return expandPlanShared(plan, scenarios).runs;
}

/** `expandPlan`, with the distinct base scenarios the runs refer to (what batch.json stores once each). */
export function expandPlanShared(plan: BatchPlan, scenarios: readonly PlanScenario[]): ExpandedPlan {
  const bases: BaseScenario[] = [];
  const runs: PlannedRun[] = [];
  const temps = plan.parameters.temperature ?? [undefined];
  scenarios.forEach((s, si) => {
    for (const pairing of pairingsFor(plan, s.scenario.agents.length, si)) {
      const seated = pairing ? seatModels(s.scenario, plan.models, pairing) : s.scenario;
      const base: Scenario = { ...seated, limits: { ...seated.limits, ...(plan.maxTurns !== undefined ? { maxTurns: plan.maxTurns } : {}) } };
      const scenarioRef = bases.push({ scenario: base, scenarioDir: s.dir }) - 1;
      const agentsByTemperature = new Map<number, Scenario['agents']>();
      for (const temperature of temps) {
        const seeds = plan.parameters.seed ?? [undefined];
        for (const fixedSeed of seeds) {
          for (let r = 1; r <= plan.repetitions; r++) {
            const seed = fixedSeed ?? s.scenario.seed + r - 1;
            const index = runs.length + 1;
            const cell: Cell = {
              index,
              scenario: s.scenario.name,
              scenarioFile: s.file,
              pairing: pairing ? [...pairing] : null,
              repetition: r,
              ...(temperature !== undefined ? { temperature } : {}),
              seed,
            };
            const parts = [String(index).padStart(4, '0'), slug(s.scenario.name)];
            if (pairing) parts.push(slug([...new Set(pairing)].join('-'), 32));
            if (temperature !== undefined) parts.push(`t${temperature}`);
            if (fixedSeed !== undefined) parts.push(`s${seed}`);
            parts.push(`r${r}`);
            runs.push({ runId: parts.join('-'), cell, scenario: cellScenario(base, cell, agentsByTemperature), scenarioDir: s.dir, scenarioRef });
          }
        }
      }
    }
  });
  return { scenarios: bases, runs };
}
