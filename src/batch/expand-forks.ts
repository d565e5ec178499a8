import type { Scenario } from '../arena/scenario.js';
import { InputError } from '../errors.js';
import { childSeed, conditionOf, type Perturbation } from '../fork/fork-meta.js';
import { replaceBackend } from '../fork/child-scenario.js';
import { cellScenario, SeatError, type BaseScenario, type Cell, type ExpandedPlan, type PlannedRun } from './expand.js';
import type { BatchPlan, PlanForks, PlanPerturbation } from './plan.js';

/** A plan condition as the fork contract describes it: null for a plain resample. */
export function perturbationOf(p: PlanPerturbation): Perturbation | null {
  const out: Perturbation = {
    ...(p.inject !== undefined ? { inject: { text: p.inject, as: p.as ?? 'narrator' } } : {}),
    ...(p.prefill !== undefined ? { prefill: { text: p.prefill } } : {}),
    ...(p.agents !== undefined && Object.keys(p.agents).length > 0 ? { agents: p.agents } : {}),
  };
  return Object.keys(out).length === 0 ? null : out;
}

/** How many forked runs a plan adds at most (counted before expanding, like the rest of the plan). */
export function countForkRuns(forks: PlanForks | undefined, plannedRuns: number): number {
  if (!forks) return 0;
  const parents = forks.runs && forks.runs.every((s) => typeof s === 'number' || !s.includes('*')) ? Math.min(forks.runs.length, plannedRuns) : plannedRuns;
  return parents * forks.at.length * (forks.perturbations?.length ?? 1) * forks.samples;
}

/** The runs `forks.runs` chooses, in the plan's order; a selector that chooses none is an error at its place. */
function chosenParents(runs: readonly PlannedRun[], selectors: PlanForks['runs']): PlannedRun[] {
  if (!selectors) return [...runs];
  const chosen = new Set<PlannedRun>();
  selectors.forEach((sel, i) => {
    let hits: PlannedRun[];
    if (typeof sel === 'number') hits = runs.filter((r) => r.cell.index === sel);
    else if (sel.includes('*')) {
      const re = new RegExp(`^${sel.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
      hits = runs.filter((r) => re.test(r.runId));
    } else hits = runs.filter((r) => r.runId === sel);
    if (hits.length === 0) throw new SeatError(`'${sel}' chooses no run of the batch (runs: ${runs[0]?.runId ?? 'none'} …)`, ['forks', 'runs', i]);
    for (const h of hits) chosen.add(h);
  });
  return runs.filter((r) => chosen.has(r));
}

/**
 * The plan's runs followed by the forks of the chosen ones: parent × fork turn × condition × sample, in that
 * nesting order. A fork's run id is its parent's with `-t<turn>[-p<condition>]-s<sample>`; its cell repeats
 * the parent's (scenario, pairing, temperature) with `repetition` = sample, the child seed (`childSeed`) and
 * `fork` = {parentRunId, atTurn, condition}. A condition that changes agents or the turn limit gets base
 * scenarios of its own.
 */
export function expandForks(plan: BatchPlan, expanded: ExpandedPlan): ExpandedPlan {
  const forks = plan.forks;
  if (!forks) return expanded;
  const conditions = (forks.perturbations ?? [{}]).map(perturbationOf);
  const scenarios: BaseScenario[] = [...expanded.scenarios];
  const runs: PlannedRun[] = [...expanded.runs];
  // Base scenario of the children of (parent base, condition), and its scenarios per temperature.
  const childBases = new Map<string, { ref: number; byTemperature: Map<number, Scenario['agents']> }>();
  const childBase = (parentRef: number, ci: number) => {
    const key = `${parentRef}:${ci}`;
    let found = childBases.get(key);
    if (!found) {
      const base = expanded.scenarios[parentRef]!;
      const scenario = childBaseScenario(base.scenario, conditions[ci]!, ci, forks.maxTurns);
      const ref = scenario === base.scenario ? parentRef : scenarios.push({ scenario, scenarioDir: base.scenarioDir }) - 1;
      found = { ref, byTemperature: new Map() };
      childBases.set(key, found);
    }
    return found;
  };
  for (const parent of chosenParents(expanded.runs, forks.runs)) {
    forks.at.forEach((atTurn, ai) => {
      conditions.forEach((perturbation, ci) => {
        const { ref, byTemperature } = childBase(parent.scenarioRef, ci);
        const base = scenarios[ref]!;
        if (atTurn >= base.scenario.limits.maxTurns) {
          throw new SeatError(
            `forking run ${parent.runId} at turn ${atTurn} leaves no turn to generate: its turn limit is ${base.scenario.limits.maxTurns} (set forks.maxTurns higher)`,
            ['forks', 'at', ai],
          );
        }
        for (let sample = 1; sample <= forks.samples; sample++) {
          const cell: Cell = {
            index: runs.length + 1,
            scenario: parent.cell.scenario,
            scenarioFile: parent.cell.scenarioFile,
            pairing: parent.cell.pairing,
            repetition: sample,
            ...(parent.cell.temperature !== undefined ? { temperature: parent.cell.temperature } : {}),
            seed: childSeed(parent.cell.seed, atTurn, sample),
            fork: { parentRunId: parent.runId, atTurn, condition: conditionOf(perturbation) },
          };
          runs.push({
            runId: `${parent.runId}-t${atTurn}${conditions.length > 1 ? `-p${ci + 1}` : ''}-s${sample}`,
            cell,
            scenario: cellScenario(base.scenario, cell, byTemperature),
            scenarioDir: base.scenarioDir,
            scenarioRef: ref,
            fork: { parentRunId: parent.runId, parentDir: parent.runId, atTurn, sample, perturbation },
          });
        }
      });
    });
  }
  return { scenarios, runs };
}

/** A parent's base scenario as the children of one condition run it: other backends, another turn limit. */
function childBaseScenario(base: Scenario, perturbation: Perturbation | null, ci: number, maxTurns: number | undefined): Scenario {
  const ids = base.agents.map((a) => a.id);
  const as = perturbation?.inject?.as;
  if (as !== undefined && as !== 'narrator' && !ids.includes(as)) {
    throw new SeatError(`no agent '${as}' in scenario '${base.name}' (agents: ${ids.join(', ')}, or narrator)`, ['forks', 'perturbations', ci, 'as']);
  }
  const agents = perturbation?.agents;
  if (!agents && maxTurns === undefined) return base;
  for (const id of Object.keys(agents ?? {})) {
    if (!ids.includes(id)) throw new SeatError(`no agent '${id}' in scenario '${base.name}' (agents: ${ids.join(', ')})`, ['forks', 'perturbations', ci, 'agents', id]);
  }
  let seated = base.agents;
  try {
    seated = base.agents.map((a) => (agents?.[a.id] !== undefined ? replaceBackend(a, agents[a.id]!) : a));
  } catch (err) {
    if (err instanceof InputError) throw new SeatError(err.message, ['forks', 'perturbations', ci, 'agents']);
    throw err;
  }
  return { ...base, agents: seated, limits: { ...base.limits, ...(maxTurns !== undefined ? { maxTurns } : {}) } };
}
