import { dirname } from 'node:path';
import type { ArenaEvent } from '../runlog/events.js';
import type { AttractorDefinition } from './attractor.js';
import { resolveDetectors } from './load-attractors.js';

/**
 * The detectors to run on a logged run, as `arena analyze` and `arena eval` choose them: the `--detectors`
 * list when given (names, `all`, .yaml attractor files, .json calibrations, comma-separated, relative to
 * `cwd`), else the run's own scenario list (relative to its scenario file), else every built-in. Lists are
 * resolved once and shared, so runs with the same list share one lexicon index.
 */
export function detectorChooser(flag: string | undefined, cwd: string): (events: readonly ArenaEvent[]) => Promise<AttractorDefinition[]> {
  const cache = new Map<string, Promise<AttractorDefinition[]>>();
  const once = (key: string, make: () => Promise<AttractorDefinition[]>) => {
    const held = cache.get(key) ?? make();
    cache.set(key, held);
    return held;
  };
  return async (events) => {
    if (flag !== undefined) return once('flag', () => resolveDetectors(flag.split(',').map((s) => s.trim()).filter(Boolean), cwd));
    const started = events.find((e) => e.type === 'run.started');
    if (started?.type !== 'run.started') return once('default', () => resolveDetectors(undefined, cwd));
    const listed = started.scenario.detectors;
    const specs = Array.isArray(listed) && listed.every((s): s is string => typeof s === 'string') ? listed : undefined;
    const base = started.scenarioFile ? dirname(started.scenarioFile) : cwd;
    return once(JSON.stringify([specs ?? null, base]), () => resolveDetectors(specs, base));
  };
}
