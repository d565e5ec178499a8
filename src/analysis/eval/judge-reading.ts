import type { Judgement } from '../../runlog/events.js';

/** Which judge's verdicts to read (`--judge BACKEND:MODEL`). */
export interface JudgeChoice {
  backend: string;
  model: string;
}

/** The parts of a `judgement` event that say what the judge found (all a reader of verdicts keeps of it). */
export type JudgementFacts = Pick<Judgement, 'judge' | 'window' | 'verdicts' | 'failure'>;

/** An attractor a judge found in a run. */
export interface JudgedAttractor {
  /** The earliest onset any window gave (a window's first turn when it found the attractor without placing it). */
  onsetTurn: number;
  /** The highest confidence among the windows that found it. */
  confidence: number;
}

/** What one judge said about one run. */
export interface JudgeReading {
  judge: JudgeChoice;
  /** Attractors some window found present. */
  found: Map<string, JudgedAttractor>;
  /**
   * Attractors the run has a verdict for: those found, and those the verdicts named when windows with verdicts
   * cover every turn of the run. Any other attractor is unscored: not "absent".
   */
  scored: Set<string>;
  /** Attractors named by any window's verdicts, present or not. */
  named: Set<string>;
  /** Windows whose newest judgement is a failure (malformed, refusal, error). */
  failedWindows: number;
  /** Windows with verdicts cover turns 1 … the run's last completed turn. */
  whole: boolean;
}

/** `backend:model`, the way `--judge` names a judge. */
export function judgeKey(judge: JudgeChoice): string {
  return `${judge.backend}:${judge.model}`;
}

/**
 * The one reading of "what a judge said about a run", shared by `arena eval --source judge` and the mining
 * commands. Per judge (backend and model), the newest judgement of each window counts. An attractor is present
 * when any window says so; it is absent only when windows with verdicts cover every turn of the run. A window
 * whose newest judgement failed, or a turn no window covered, leaves the run unscored for the attractors no
 * window found: a failure is never read as "absent".
 *
 * @param turns the run's last completed turn number.
 * @returns one reading per judge, in the order the judges first appear.
 */
export function readJudgements(judgements: Iterable<JudgementFacts>, turns: number): Map<string, JudgeReading> {
  const windows = new Map<string, Map<string, JudgementFacts>>();
  const judges = new Map<string, JudgeChoice>();
  for (const j of judgements) {
    const key = judgeKey(j.judge);
    let latest = windows.get(key);
    if (!latest) {
      windows.set(key, (latest = new Map()));
      judges.set(key, { backend: j.judge.backend, model: j.judge.model });
    }
    latest.set(`${j.window[0]}-${j.window[1]}`, j);
  }
  const readings = new Map<string, JudgeReading>();
  for (const [key, latest] of windows) {
    const covered = new Set<number>();
    const named = new Set<string>();
    const found = new Map<string, JudgedAttractor>();
    let failedWindows = 0;
    for (const j of latest.values()) {
      if (!j.verdicts) {
        failedWindows++;
        continue;
      }
      for (let t = j.window[0]; t <= j.window[1]; t++) covered.add(t);
      for (const v of j.verdicts) {
        named.add(v.attractor);
        if (!v.present) continue;
        const turn = v.onsetTurn ?? j.window[0];
        const held = found.get(v.attractor);
        if (!held) found.set(v.attractor, { onsetTurn: turn, confidence: v.confidence });
        else {
          held.onsetTurn = Math.min(held.onsetTurn, turn);
          held.confidence = Math.max(held.confidence, v.confidence);
        }
      }
    }
    let whole = turns > 0;
    for (let t = 1; t <= turns && whole; t++) whole = covered.has(t);
    const scored = new Set<string>(found.keys());
    if (whole) for (const a of named) scored.add(a);
    readings.set(key, { judge: judges.get(key)!, found, scored, named, failedWindows, whole });
  }
  return readings;
}
