import type { Scenario } from '../arena/scenario.js';
import { InputError } from '../errors.js';

/** Where a scenario came from, for resolving its attractor files and naming it in messages. */
export interface ScenarioOrigin {
  /** Folder that attractor files named in `detectors` resolve against (the scenario's folder). */
  scenarioDir: string;
  /** The scenario file, named in messages; 'scenario' when there is none (a built-in or a batch's). */
  scenarioFile?: string;
}

/**
 * Refuse a scenario whose `stop.onAttractor` names an attractor no detector of the scenario reports, nor its
 * live judge's rubric (`judgeAttractors`, when the scenario has a judge): a misspelt name would otherwise
 * silently never fire. `*` matches any attractor and is always allowed.
 */
export async function checkAttractorNames(scenario: Scenario, origin: ScenarioOrigin, judgeAttractors?: readonly string[]): Promise<void> {
  const named = scenario.stop.onAttractor.filter((a) => a.attractor !== '*');
  if (named.length === 0) return;
  const { resolveDetectors } = await import('../analysis/load-attractors.js');
  const known = new Set((await resolveDetectors(scenario.detectors, origin.scenarioDir)).map((d) => d.name));
  const judged = new Set(judgeAttractors ?? []);
  scenario.stop.onAttractor.forEach((a, i) => {
    if (a.attractor !== '*' && !known.has(a.attractor) && !judged.has(a.attractor)) {
      const judge = judgeAttractors ? `; the live judge's rubric: ${judgeAttractors.join(', ')}` : '';
      throw new InputError(
        `${origin.scenarioFile ?? 'scenario'}: stop.onAttractor[${i}].attractor: no detector named '${a.attractor}' runs in this scenario (detectors: ${[...known].join(', ') || 'none'}${judge})`,
      );
    }
  });
}
