import { InputError } from '../../errors.js';
import type { ArenaEvent, EventBody, EventOf } from '../../runlog/events.js';
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

/** Which judge's verdicts to read (`--judge BACKEND:MODEL`); without it a log must hold one judge's. */
export interface JudgeChoice {
  backend: string;
  model: string;
}

/**
 * What a judge said about one run (`--source judge`), read from the `judgement` events in its log. The newest
 * judgement of each window counts. An attractor is present when any window says so (onset: the earliest onset
 * given, else the window's first turn); it is scored as absent only when windows with verdicts cover every
 * turn of the run. A window whose judgement failed (malformed, refusal, error) or a turn no window covered
 * leaves the run unscored for the attractors no window found: a failure is never read as "absent".
 */
export function detectionInJudgements(events: readonly ArenaEvent[], file: string, judge?: JudgeChoice): Detection {
  let turns = 0;
  for (const e of events) if (e.type === 'turn.completed') turns = Math.max(turns, e.turn);
  const latest = new Map<string, EventOf<'judgement'>>();
  const judges = new Set<string>();
  for (const e of events) {
    if (e.type !== 'judgement') continue;
    if (judge && (e.judge.backend !== judge.backend || e.judge.model !== judge.model)) continue;
    judges.add(`${e.judge.backend}:${e.judge.model}`);
    latest.set(`${e.window[0]}-${e.window[1]}`, e);
  }
  if (judges.size > 1) {
    throw new InputError(`${file}: judgements by ${[...judges].sort().join(', ')}; choose one with --judge BACKEND:MODEL`);
  }
  const covered = new Set<number>();
  const named = new Set<string>();
  const found = new Map<string, AttractorEpisode>();
  for (const j of latest.values()) {
    if (!j.verdicts) continue;
    for (let t = j.window[0]; t <= j.window[1]; t++) covered.add(t);
    for (const v of j.verdicts) {
      named.add(v.attractor);
      if (!v.present) continue;
      const turn = v.onsetTurn ?? j.window[0];
      const held = found.get(v.attractor);
      if (!held || turn < held.enteredTurn) found.set(v.attractor, { attractor: v.attractor, enteredTurn: turn, exitedTurn: null, score: Math.max(v.confidence, held?.score ?? 0) });
      else held.score = Math.max(held.score, v.confidence);
    }
  }
  let whole = turns > 0;
  for (let t = 1; t <= turns && whole; t++) whole = covered.has(t);
  const scored = new Set<string>(found.keys());
  if (whole) for (const a of named) scored.add(a);
  const episodes = [...found.values()].sort((a, b) => a.enteredTurn - b.enteredTurn);
  const analysis: EventBody[] = episodes.map((ep) => ({ type: 'attractor.entered', attractor: ep.attractor, turn: ep.enteredTurn, score: ep.score, evidence: {} }));
  return { analysis, episodes, scored };
}
