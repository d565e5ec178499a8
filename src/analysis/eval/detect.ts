import type { ArenaEvent, EventBody } from '../../runlog/events.js';
import { analyzeRunEvents, episodes, type AttractorEpisode } from '../analyze-run.js';
import type { AttractorDefinition } from '../attractor.js';

/** What a detector said about one run: its analysis events and the episodes they make. */
export interface Detection {
  /** `analysis.turn`, `attractor.entered` and `attractor.exited`, in order. */
  analysis: readonly (EventBody | ArenaEvent)[];
  episodes: AttractorEpisode[];
  /** Attractors the analysis looked for: only for these does "no episode" mean "not detected". */
  scored: ReadonlySet<string>;
}

export interface DetectOptions {
  detectors: readonly AttractorDefinition[];
}

/**
 * Run the current detectors on a run's turns, with the code `arena analyze` and live runs use. The one place
 * `arena eval --source detector` calls a detector, so options (a fitted calibration) are added here.
 */
export async function detect(events: readonly ArenaEvent[], options: DetectOptions): Promise<Detection> {
  const result = await analyzeRunEvents(events, { detectors: options.detectors });
  return { analysis: result.events, episodes: result.attractors, scored: new Set(options.detectors.map((d) => d.name)) };
}

/** The detection a run's log already holds (`--source log`): what ran live or was written by `arena analyze --write`. */
export function detectionInLog(events: readonly ArenaEvent[]): Detection {
  const analysis = events.filter((e) => e.type === 'analysis.turn' || e.type === 'attractor.entered' || e.type === 'attractor.exited');
  const scored = new Set<string>();
  for (const e of analysis) {
    if (e.type === 'analysis.turn') for (const a of Object.keys(e.scores)) scored.add(a);
    else scored.add(e.attractor);
  }
  return { analysis, episodes: episodes(analysis), scored };
}
