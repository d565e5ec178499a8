import type { Thresholds } from './attractor.js';
import { predict, type DetectorModel, type FeatureRow } from './detector-model.js';
import { AttractorState, backdatedOnset } from './onset.js';

/** One labelled conversation as the fit sees it: its turns' feature rows and what a reader said of it. */
export interface LabelledConversation {
  id: string;
  /** Conversations of one group never sit on both sides of a cross-validation fold (template × model pair). */
  group: string;
  rows: readonly FeatureRow[];
  /** Speaker of each turn, in order. */
  speakers: readonly string[];
  /** Turn number of each row. */
  turns: readonly number[];
  present: boolean;
  /** The labelled onset turn; null when absent or not given. */
  onset: number | null;
  /** The attractor's hand-set (gated) signal per turn and its thresholds: the route the fit adds to. */
  signal?: { scores: readonly number[]; thresholds: Thresholds };
  /** Each turn's repeatLag, for an attractor whose calibrated onsets are moved back to where a loop began. */
  lags?: readonly number[];
}

export interface FittedDetector {
  model: DetectorModel;
  thresholds: Thresholds;
}

export interface FitOptions {
  /** L2 penalty on standardised weights. */
  l2?: number;
  /** Candidate entry thresholds and run lengths searched for the best conversation-level F1. */
  enter?: readonly number[];
  enterTurns?: readonly number[];
  /**
   * The direction each feature may push a turn's score (+1 towards the attractor, -1 away). A feature whose
   * fitted weight points the other way is dropped and the model fitted again, so every weight reads as the
   * definition says (more repeated lines, more loop) rather than as a quirk of the training set.
   */
  signs?: Readonly<Record<string, 1 | -1>>;
}

const DEFAULT_ENTER = [0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9];
const DEFAULT_ENTER_TURNS = [1, 2, 3, 4];
const EXIT_TURNS = 3;

/**
 * Fit one attractor's detector: a logistic turn model (turns from the labelled onset on are positive in a
 * positive conversation, every other turn negative; each turn weighs 1/√(its conversation's turns), so long
 * conversations do not drown short ones),
 * then the entry threshold and run length that give the best conversation-level F1 on the same
 * conversations (ties go to the better onset, then the more cautious setting).
 */
export function fitDetector(convs: readonly LabelledConversation[], features: readonly string[], options: FitOptions = {}): FittedDetector {
  const X: number[][] = [];
  const y: number[] = [];
  const w: number[] = [];
  for (const c of convs) {
    const from = c.present ? (c.onset ?? Math.ceil(c.turns.length / 2)) : Infinity;
    const weight = 1 / Math.sqrt(Math.max(c.rows.length, 1));
    c.rows.forEach((row, i) => {
      X.push(features.map((f) => row[f] ?? 0));
      y.push(c.turns[i]! >= from ? 1 : 0);
      w.push(weight);
    });
  }
  let kept = [...features];
  let model = fitLogistic(kept, X, y, w, options.l2 ?? 1);
  for (;;) {
    const signs = options.signs ?? {};
    let worst = -1;
    let worstBy = 0;
    model.weights.forEach((wt, j) => {
      const against = -(signs[kept[j]!] ?? 0) * wt;
      if (against > worstBy) {
        worstBy = against;
        worst = j;
      }
    });
    if (worst < 0 || kept.length === 1) break;
    const drop = worst;
    kept = kept.filter((_, j) => j !== drop);
    const columns = kept.map((f) => features.indexOf(f));
    model = fitLogistic(
      kept,
      X.map((row) => columns.map((c) => row[c]!)),
      y,
      w,
      options.l2 ?? 1,
    );
  }
  const probabilities = convs.map((c) => c.rows.map((r) => predict(model, r)));
  let best: { thresholds: Thresholds; f1: number; onset: number } | undefined;
  for (const enterTurns of options.enterTurns ?? DEFAULT_ENTER_TURNS) {
    for (const enter of options.enter ?? DEFAULT_ENTER) {
      const thresholds: Thresholds = { enter, exit: round2(enter * 0.6), enterTurns, exitTurns: EXIT_TURNS };
      let tp = 0;
      let fp = 0;
      let fn = 0;
      let onsetError = 0;
      convs.forEach((c, k) => {
        const onset = decide(thresholds, c, probabilities[k]!);
        if (onset !== null && c.present) {
          tp++;
          if (c.onset !== null) onsetError += Math.min(Math.abs(onset - c.onset), 10);
        } else if (onset !== null) fp++;
        else if (c.present) fn++;
      });
      const f1 = tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
      const onset = tp === 0 ? 10 : onsetError / tp;
      // The loops run from the least to the most cautious setting, so a tie (same F1, same onset error) goes
      // to the later one: a higher threshold, then a longer run.
      const tie = best !== undefined && Math.abs(f1 - best.f1) <= 1e-9;
      if (!best || f1 > best.f1 + 1e-9 || (tie && onset <= best.onset + 1e-9)) best = { thresholds, f1, onset };
    }
  }
  return { model, thresholds: best!.thresholds };
}

/**
 * The onset the analyzer would report for a conversation with these turn probabilities (and the hand-set
 * signal's route, when the conversation carries it), or null.
 */
export function decide(thresholds: Thresholds, c: Pick<LabelledConversation, 'speakers' | 'turns' | 'signal' | 'lags'>, probabilities: readonly number[]): number | null {
  const state = new AttractorState(c.signal?.thresholds ?? NEVER, thresholds);
  for (let i = 0; i < probabilities.length; i++) {
    const t = state.push(c.speakers[i]!, c.turns[i]!, c.signal?.scores[i] ?? 0, probabilities[i]!);
    if (t?.kind !== 'entered') continue;
    if (t.route !== 'calibrated' || !c.lags) return t.turn;
    return backdatedOnset(t.turn, c.lags[c.turns.indexOf(t.turn)] ?? 0);
  }
  return null;
}

/** Thresholds no score reaches: a conversation without a signal route. */
const NEVER: Thresholds = { enter: 2, exit: 0, enterTurns: 1, exitTurns: 1 };

/**
 * L2-penalised logistic regression by Newton's method on standardised features. Features with no spread
 * keep scale 1 and get weight 0 in effect (the penalty holds them there).
 */
export function fitLogistic(features: readonly string[], X: readonly number[][], y: readonly number[], w: readonly number[], l2: number): DetectorModel {
  const d = features.length;
  const n = X.length;
  const mean = new Array<number>(d).fill(0);
  const scale = new Array<number>(d).fill(0);
  let wsum = 0;
  for (let i = 0; i < n; i++) {
    wsum += w[i]!;
    for (let j = 0; j < d; j++) mean[j]! += w[i]! * X[i]![j]!;
  }
  for (let j = 0; j < d; j++) mean[j] = mean[j]! / Math.max(wsum, 1e-12);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) scale[j]! += w[i]! * (X[i]![j]! - mean[j]!) ** 2;
  for (let j = 0; j < d; j++) {
    const sd = Math.sqrt(scale[j]! / Math.max(wsum, 1e-12));
    scale[j] = sd > 1e-9 ? sd : 1;
  }
  const Z = X.map((row) => row.map((v, j) => (v - mean[j]!) / scale[j]!));
  // beta[0] is the bias (not penalised), beta[1..d] the weights.
  let beta = new Array<number>(d + 1).fill(0);
  const pos = y.reduce((a, b, i) => a + b * w[i]!, 0);
  beta[0] = Math.log(Math.max(pos, 1e-6) / Math.max(wsum - pos, 1e-6));
  const objective = (b: readonly number[]): number => {
    let ll = 0;
    for (let i = 0; i < n; i++) {
      let eta = b[0]!;
      for (let j = 0; j < d; j++) eta += b[j + 1]! * Z[i]![j]!;
      // log(1 + e^eta) computed without overflow.
      const softplus = eta > 0 ? eta + Math.log1p(Math.exp(-eta)) : Math.log1p(Math.exp(eta));
      ll += w[i]! * (y[i]! * eta - softplus);
    }
    let penalty = 0;
    for (let j = 1; j <= d; j++) penalty += b[j]! ** 2;
    return -ll + (l2 / 2) * penalty;
  };
  let current = objective(beta);
  for (let iter = 0; iter < 100; iter++) {
    const grad = new Array<number>(d + 1).fill(0);
    const H = Array.from({ length: d + 1 }, () => new Array<number>(d + 1).fill(0));
    for (let i = 0; i < n; i++) {
      const zi = Z[i]!;
      let eta = beta[0]!;
      for (let j = 0; j < d; j++) eta += beta[j + 1]! * zi[j]!;
      const p = 1 / (1 + Math.exp(-eta));
      const r = w[i]! * (y[i]! - p);
      const s = w[i]! * Math.max(p * (1 - p), 1e-9);
      const x = [1, ...zi];
      for (let a = 0; a <= d; a++) {
        grad[a]! += r * x[a]!;
        for (let b = a; b <= d; b++) H[a]![b]! += s * x[a]! * x[b]!;
      }
    }
    for (let a = 0; a <= d; a++) for (let b = 0; b < a; b++) H[a]![b] = H[b]![a]!;
    for (let j = 1; j <= d; j++) {
      grad[j]! -= l2 * beta[j]!;
      H[j]![j]! += l2;
    }
    const step = solve(H, grad);
    // Damped Newton: halve the step until the penalised likelihood improves.
    let t = 1;
    let next = beta.map((b, k) => b + step[k]!);
    let value = objective(next);
    while (value > current && t > 1e-6) {
      t /= 2;
      next = beta.map((b, k) => b + t * step[k]!);
      value = objective(next);
    }
    if (value > current) break;
    const moved = Math.max(...step.map((s) => Math.abs(s * t)));
    beta = next;
    current = value;
    if (moved < 1e-7) break;
  }
  return { features: [...features], mean: mean.map(round6), scale: scale.map(round6), weights: beta.slice(1).map(round6), bias: round6(beta[0]!) };
}

/** Solve A x = b by Gaussian elimination with partial pivoting (A is small and positive definite). */
function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[p]![c]!)) p = r;
    [M[c], M[p]] = [M[p]!, M[c]!];
    const pivot = M[c]![c]!;
    if (Math.abs(pivot) < 1e-12) continue;
    for (let r = c + 1; r < n; r++) {
      const f = M[r]![c]! / pivot;
      if (f === 0) continue;
      for (let k = c; k <= n; k++) M[r]![k]! -= f * M[c]![k]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r]![n]!;
    for (let k = r + 1; k < n; k++) s -= M[r]![k]! * x[k]!;
    x[r] = Math.abs(M[r]![r]!) < 1e-12 ? 0 : s / M[r]![r]!;
  }
  return x;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
