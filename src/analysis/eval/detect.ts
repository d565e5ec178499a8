import { InputError } from '../../errors.js';
import type { ArenaEvent, EventBody, EventOf } from '../../runlog/events.js';
import { analyzeRunEvents, episodes, type AttractorEpisode } from '../analyze-run.js';
import type { AttractorDefinition } from '../attractor.js';
import { judgeKey, readJudgements, type JudgeChoice } from './judge-reading.js';

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

/**
 * What a judge said about one run (`--source judge`), read from the `judgement` events in its log by
 * readJudgements: the newest judgement of each window counts; an attractor is present when any window says so
 * (onset: the earliest onset given, else the window's first turn) and absent only when windows with verdicts
 * cover every turn. A failed window or an uncovered turn leaves the run unscored for the attractors no window
 * found: a failure is never read as "absent". Without `judge`, the log must hold one judge's judgements.
 */
export function detectionInJudgements(events: readonly ArenaEvent[], file: string, judge?: JudgeChoice): Detection {
  let turns = 0;
  for (const e of events) if (e.type === 'turn.completed') turns = Math.max(turns, e.turn);
  const readings = readJudgements(
    events.filter((e): e is EventOf<'judgement'> => e.type === 'judgement'),
    turns,
  );
  const chosen = judge ? [readings.get(judgeKey(judge))].filter((r) => r !== undefined) : [...readings.values()];
  if (chosen.length > 1) {
    throw new InputError(`${file}: judgements by ${[...readings.keys()].sort().join(', ')}; choose one with --judge BACKEND:MODEL`);
  }
  const reading = chosen[0];
  if (!reading) return { analysis: [], episodes: [], scored: new Set() };
  const episodes: AttractorEpisode[] = [...reading.found].map(([attractor, f]) => ({ attractor, enteredTurn: f.onsetTurn, exitedTurn: null, score: f.confidence }));
  episodes.sort((a, b) => a.enteredTurn - b.enteredTurn);
  const analysis: EventBody[] = episodes.map((ep) => ({ type: 'attractor.entered', attractor: ep.attractor, turn: ep.enteredTurn, score: ep.score, evidence: {} }));
  return { analysis, episodes, scored: new Set(reading.scored) };
}
