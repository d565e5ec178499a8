import type { Scenario } from '../arena/scenario.js';
import type { BaseScenario, PlannedRun } from './expand.js';
import type { BatchPlan } from './plan.js';

/** Whether what a scripted agent says depends on the run's seed (cycle in order, script, echo and replay do not). */
function usesSeed(agent: Scenario['agents'][number]): boolean {
  if (agent.backend !== 'scripted') return true;
  const g = agent.generator;
  return g.kind === 'markov' || g.kind === 'drift' || (g.kind === 'cycle' && g.order === 'random');
}

/**
 * Warnings for repetitions that can only repeat one run: every seat scripted (scripted agents are
 * deterministic) and either the plan fixes the seed (`parameters.seed`: each repetition of a cell gets the
 * same one) or nothing in the scenario uses the seed at all.
 */
export function identicalRepetitionWarnings(plan: BatchPlan, bases: readonly BaseScenario[], runs: readonly PlannedRun[]): string[] {
  if (plan.repetitions < 2) return [];
  const sameSeed: string[] = [];
  const seedless: string[] = [];
  const labelOf = new Map<number, string>();
  for (const r of runs) {
    if (!labelOf.has(r.scenarioRef)) labelOf.set(r.scenarioRef, `'${r.cell.scenario}'${r.cell.pairing ? ` with ${r.cell.pairing.join(' × ')}` : ''}`);
  }
  bases.forEach((b, i) => {
    const s = b.scenario;
    if (!s.agents.every((a) => a.backend === 'scripted')) return;
    const label = labelOf.get(i) ?? `'${s.name}'`;
    if (plan.parameters.seed !== undefined) sameSeed.push(label);
    else if (!s.agents.some(usesSeed) && s.turnPolicy !== 'random' && !s.stop.onAttractor.some((a) => a.action === 'perturb')) seedless.push(label);
  });
  const list = (labels: string[]) => (labels.length > 3 ? `${labels.slice(0, 3).join(', ')} and ${labels.length - 3} more` : labels.join(', '));
  const out: string[] = [];
  if (sameSeed.length > 0) {
    out.push(
      `the ${plan.repetitions} repetitions of each cell of ${list(sameSeed)} will be identical runs: scripted agents given the same seed (parameters.seed) say the same each time; use repetitions: 1, or drop parameters.seed so that repetition r runs with the scenario seed + r - 1`,
    );
  }
  if (seedless.length > 0) {
    out.push(
      `the ${plan.repetitions} repetitions of each cell of ${list(seedless)} will be identical runs: their scripted generators (script, echo, replay, cycle in order) do not use the seed; use repetitions: 1, or a generator that does (drift, markov, cycle with order: random)`,
    );
  }
  return out;
}
