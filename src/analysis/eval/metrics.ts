import { wilson } from '../../stats/wilson.js';
import type { LabelRecord } from './labels.js';
import { evidenceTerms, type RunOutcome } from './outcome.js';

/** A labelled run with what the detector made of it. */
export interface ScoredRun {
  record: LabelRecord;
  outcome: RunOutcome;
}

/** The detector raised an attractor the label says is absent. */
export interface FalseAlarm {
  run: string;
  label: string;
  /** Onset turn of the first episode, its score and what the detector recorded as evidence. */
  turn: number;
  score: number;
  terms: string[];
  evidence: unknown;
  note: string | null;
}

/** The label says present; the detector never entered the attractor. */
export interface Miss {
  run: string;
  label: string;
  labelledOnset: number | null;
  /** The turn the attractor scored highest (null when the analysis holds no score for it). */
  peak: { turn: number; score: number; terms: string[] } | null;
  note: string | null;
}

export interface OnsetError {
  /** Median absolute error (turns) over true positives with a labelled onset. */
  median: number | null;
  /** Share of those within ±3 turns. */
  within3: number | null;
  n: number;
  /** Median of detected − labelled: positive means the detector is late. */
  medianSigned: number | null;
}

export interface AttractorScore {
  attractor: string;
  /** Labelled runs scored for this attractor. */
  n: number;
  tp: number;
  fp: number;
  fn: number;
  tn: number;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  ci95: { precision: [number, number]; recall: [number, number] };
  onset: OnsetError;
  /** Labelled runs whose analysis never looked for this attractor (`--source log`), left out of the counts. */
  notAnalysed: number;
  misses: Miss[];
  falseAlarms: FalseAlarm[];
}

export interface Confusion {
  /** Share of the last turns the detector's state is read from. */
  window: number;
  /** `none`, then the attractors. */
  columns: string[];
  rows: { endState: string; n: number; counts: Record<string, number> }[];
  /** An attractor end state read as that attractor, any other end state read as `none`. */
  agreement: { count: number; n: number; share: number | null };
}

export const NOTE_CHARS = 160;
export const END_WINDOW = 0.2;

const round4 = (x: number) => Math.round(x * 1e4) / 1e4;
const ratio = (a: number, b: number) => (b > 0 ? round4(a / b) : null);
const interval = (a: number, b: number): [number, number] => {
  const [lo, hi] = wilson(a, b);
  return [round4(lo), round4(hi)];
};

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function truncate(text: string | undefined, max = NOTE_CHARS): string | null {
  if (text === undefined) return null;
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1).trimEnd()}…`;
}

/** Conversation-level scores for one attractor over the runs labelled for it. */
export function scoreAttractor(attractor: string, runs: readonly ScoredRun[]): AttractorScore {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  let notAnalysed = 0;
  const errors: number[] = [];
  const misses: Miss[] = [];
  const falseAlarms: FalseAlarm[] = [];
  for (const { record, outcome } of runs) {
    const label = record.labels.get(attractor);
    if (!label) continue;
    if (!outcome.scored.has(attractor)) {
      notAnalysed++;
      continue;
    }
    const first = outcome.episodes.find((e) => e.attractor === attractor);
    const note = truncate(label.notes ?? record.notes);
    if (first && label.present) {
      tp++;
      if (label.onsetTurn !== null) errors.push(first.enteredTurn - label.onsetTurn);
    } else if (first) {
      fp++;
      const entry = outcome.entries.get(attractor);
      const evidence = entry?.evidence ?? null;
      falseAlarms.push({ run: outcome.runId, label: record.ref, turn: first.enteredTurn, score: round4(first.score), terms: evidenceTerms(evidence), evidence, note });
    } else if (label.present) {
      fn++;
      const peak = outcome.peaks.get(attractor);
      misses.push({ run: outcome.runId, label: record.ref, labelledOnset: label.onsetTurn, peak: peak ? { turn: peak.turn, score: round4(peak.score), terms: peak.terms } : null, note });
    } else {
      tn++;
    }
  }
  const within = errors.filter((e) => Math.abs(e) <= 3).length;
  const absMedian = median(errors.map(Math.abs));
  const signed = median(errors);
  return {
    attractor,
    n: tp + fp + fn + tn,
    tp,
    fp,
    fn,
    tn,
    precision: ratio(tp, tp + fp),
    recall: ratio(tp, tp + fn),
    // 2tp / (2tp + fp + fn): 0 when there were positives and none was found, null when there is nothing to find or raise.
    f1: ratio(2 * tp, 2 * tp + fp + fn),
    ci95: { precision: interval(tp, tp + fp), recall: interval(tp, tp + fn) },
    onset: { median: absMedian === null ? null : round4(absMedian), within3: ratio(within, errors.length), n: errors.length, medianSigned: signed === null ? null : round4(signed) },
    notAnalysed,
    misses,
    falseAlarms,
  };
}

/**
 * The attractor the detector has the conversation in over its last `END_WINDOW` of turns: the one whose
 * episodes cover most of those turns (the first listed on a tie), or `none`.
 */
export function endStateOf(outcome: RunOutcome, attractors: readonly string[]): string {
  const last = outcome.turns;
  if (last === 0) return 'none';
  const from = last - Math.max(1, Math.ceil(END_WINDOW * last)) + 1;
  let best = 'none';
  let bestCover = 0;
  for (const a of attractors) {
    if (!outcome.scored.has(a)) continue;
    let cover = 0;
    for (const ep of outcome.episodes) {
      if (ep.attractor !== a) continue;
      // exitedTurn is the first turn outside the attractor.
      const end = ep.exitedTurn === null ? last : ep.exitedTurn - 1;
      cover += Math.max(0, Math.min(end, last) - Math.max(ep.enteredTurn, from) + 1);
    }
    if (cover > bestCover) {
      best = a;
      bestCover = cover;
    }
  }
  return best;
}

/** Labelled end state (rows) against the detector's state over the last turns (columns). */
export function confusion(runs: readonly ScoredRun[], attractors: readonly string[]): Confusion {
  const columns = ['none', ...attractors];
  const rows = new Map<string, { endState: string; n: number; counts: Record<string, number> }>();
  let agree = 0;
  let n = 0;
  for (const { record, outcome } of runs) {
    if (record.endState === undefined) continue;
    const seen = endStateOf(outcome, attractors);
    const row = rows.get(record.endState) ?? { endState: record.endState, n: 0, counts: Object.fromEntries(columns.map((c) => [c, 0])) };
    row.n++;
    row.counts[seen] = (row.counts[seen] ?? 0) + 1;
    rows.set(record.endState, row);
    n++;
    if (seen === (attractors.includes(record.endState) ? record.endState : 'none')) agree++;
  }
  // Attractor end states first, in attractor order, then the others, most common first.
  const place = (s: string) => (attractors.includes(s) ? attractors.indexOf(s) : attractors.length);
  const ordered = [...rows.values()].sort((a, b) => place(a.endState) - place(b.endState) || b.n - a.n || (a.endState < b.endState ? -1 : 1));
  return { window: END_WINDOW, columns, rows: ordered, agreement: { count: agree, n, share: ratio(agree, n) } };
}
