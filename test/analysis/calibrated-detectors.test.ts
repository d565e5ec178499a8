import { describe, expect, it } from 'vitest';
import { ThresholdsSchema } from '../../src/analysis/attractor.js';
import { crossValidate, groupedFolds } from '../../src/analysis/cross-validate.js';
import { DetectorModelSchema, drivers, predict, type DetectorModel, type FeatureRow } from '../../src/analysis/detector-model.js';
import { decide, fitDetector, fitLogistic, type LabelledConversation } from '../../src/analysis/fit.js';

/** A small deterministic generator (mulberry32), so the synthetic data is the same on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** A two-speaker conversation from its rows; turns are numbered from 1. */
function conversation(id: string, rows: FeatureRow[], present: boolean, onset: number | null, group = id): LabelledConversation {
  return { id, group, rows, speakers: rows.map((_, i) => (i % 2 ? 'b' : 'a')), turns: rows.map((_, i) => i + 1), present, onset };
}

const probabilities = (model: DetectorModel, c: LabelledConversation) => c.rows.map((r) => predict(model, r));

describe('predict and drivers', () => {
  const model: DetectorModel = { features: ['a', 'b'], mean: [1, 2], scale: [2, 4], weights: [0.5, -1], bias: 0.25 };

  it('is the logistic of the bias plus weight × standardised value', () => {
    // z = 0.25 + 0.5 × (3 − 1) / 2 − 1 × (6 − 2) / 4 = −0.25
    expect(predict(model, { a: 3, b: 6 })).toBeCloseTo(1 / (1 + Math.exp(0.25)), 12);
    // A feature the row lacks counts as 0: z = 0.25 + 0.5 − 1 × (0 − 2) / 4 = 1.25
    expect(predict(model, { a: 3 })).toBeCloseTo(sigmoid(1.25), 12);
    // Extreme log-odds stay in [0, 1] without overflow.
    expect(predict({ ...model, bias: -1000 }, { a: 3, b: 6 })).toBe(0);
    expect(predict({ ...model, bias: 1000 }, { a: 3, b: 6 })).toBe(1);
  });

  it('drivers are the positive contributions, strongest first, at most k', () => {
    const m: DetectorModel = { features: ['x', 'y', 'z', 'gone'], mean: [0, 0, 0, -1], scale: [1, 1, 1, 4], weights: [1, 2, -1, 2], bias: 0 };
    const row = { x: 1, y: 1, z: 1 };
    // gone is missing: (0 − (−1)) / 4 × 2 = 0.5, a positive contribution with value 0.
    expect(drivers(m, row, 10)).toEqual([
      { feature: 'y', value: 1, contribution: 2 },
      { feature: 'x', value: 1, contribution: 1 },
      { feature: 'gone', value: 0, contribution: 0.5 },
    ]);
    expect(drivers(m, row, 1).map((d) => d.feature)).toEqual(['y']);
    expect(drivers(m, { x: -1, y: -1, z: 1, gone: -1 }, 4)).toEqual([]);
  });

  it('the model schema refuses lists of different lengths and non-positive scales', () => {
    expect(DetectorModelSchema.safeParse(model).success).toBe(true);
    expect(DetectorModelSchema.safeParse({ ...model, mean: [1] }).success).toBe(false);
    expect(DetectorModelSchema.safeParse({ ...model, scale: [2, 0] }).success).toBe(false);
    expect(DetectorModelSchema.safeParse({ ...model, features: [] , mean: [], scale: [], weights: [] }).success).toBe(false);
  });
});

describe('fitLogistic', () => {
  /** x separates the classes with overlap; noise is independent of them. */
  function data(seed: number, n = 400) {
    const r = random(seed);
    const X: number[][] = [];
    const y: number[] = [];
    for (let i = 0; i < n; i++) {
      const label = i % 2;
      X.push([(label ? 1 : -1) + (r() * 2 - 1) * 1.5, r() * 10]);
      y.push(label);
    }
    return { X, y, w: X.map(() => 1) };
  }

  it('finds the informative feature and leaves the noise near 0, for either sign', () => {
    for (const seed of [1, 2, 3]) {
      const { X, y, w } = data(seed);
      const m = fitLogistic(['x', 'noise'], X, y, w, 1);
      expect(m.features).toEqual(['x', 'noise']);
      expect(m.weights[0]).toBeGreaterThan(2);
      expect(Math.abs(m.weights[1]!)).toBeLessThan(0.2);
      // Standardised with the data's weighted mean and spread.
      expect(m.mean[1]).toBeCloseTo(X.reduce((s, r) => s + r[1]!, 0) / X.length, 5);
      // The flipped feature gets the flipped weight.
      const flipped = fitLogistic(['noise', 'x'], X.map(([a, b]) => [b!, -a!]), y, w, 1);
      expect(flipped.weights[1]).toBeCloseTo(-m.weights[0]!, 4);
    }
  });

  it('reaches the penalised optimum: the gradient vanishes there', () => {
    const { X, y, w } = data(9, 200);
    const l2 = 2;
    const m = fitLogistic(['x', 'noise'], X, y, w, l2);
    const grad = [0, 0, 0];
    X.forEach((row, i) => {
      const z = row.map((v, j) => (v - m.mean[j]!) / m.scale[j]!);
      const p = sigmoid(m.bias + m.weights[0]! * z[0]! + m.weights[1]! * z[1]!);
      const r = y[i]! - p;
      grad[0]! += r;
      grad[1]! += r * z[0]!;
      grad[2]! += r * z[1]!;
    });
    grad[1]! -= l2 * m.weights[0]!;
    grad[2]! -= l2 * m.weights[1]!;
    for (const g of grad) expect(Math.abs(g)).toBeLessThan(1e-2);
    // A stronger penalty shrinks the weight.
    expect(fitLogistic(['x', 'noise'], X, y, w, 200).weights[0]).toBeLessThan(m.weights[0]! / 2);
  });

  it('stays finite on perfectly separable data, with no penalty at all, and separates it', () => {
    const X = Array.from({ length: 50 }, (_, i) => [i < 25 ? i : i + 100]);
    const y = X.map((_, i) => (i < 25 ? 0 : 1));
    const m = fitLogistic(['x'], X, y, X.map(() => 1), 0);
    expect([...m.weights, m.bias, ...m.mean, ...m.scale].every(Number.isFinite)).toBe(true);
    expect(m.weights[0]).toBeGreaterThan(0);
    X.forEach((row, i) => expect(predict(m, { x: row[0]! }) > 0.5, `row ${i}`).toBe(y[i] === 1));
  });

  it('a feature with no spread keeps scale 1 and weight 0; the bias takes the base rate', () => {
    const X = Array.from({ length: 40 }, () => [3]);
    const y = X.map((_, i) => (i < 10 ? 1 : 0));
    const m = fitLogistic(['flat'], X, y, X.map(() => 1), 1);
    expect(m.scale).toEqual([1]);
    expect(m.weights[0]).toBeCloseTo(0, 6);
    expect(sigmoid(m.bias)).toBeCloseTo(10 / 40, 4);
  });
});

describe('fitDetector and decide', () => {
  /** x is high from the onset on; absent conversations have one high turn (a spike) that must not enter. */
  function synthetic(seed: number): LabelledConversation[] {
    const r = random(seed);
    const conv = (id: string, onset: number | null) => {
      const rows = Array.from({ length: 12 }, (_, i) => ({ x: onset !== null && i + 1 >= onset ? 0.8 + 0.2 * r() : 0.2 * r(), noise: r() }));
      if (onset === null) rows[5] = { x: 0.95, noise: r() };
      return conversation(id, rows, onset !== null, onset);
    };
    return [conv('p3', 3), conv('p5', 5), conv('p7', 7), conv('p9', 9), conv('n1', null), conv('n2', null), conv('n3', null), conv('n4', null)];
  }

  it('chooses thresholds under which each conversation is decided as labelled, onsets included', () => {
    const convs = synthetic(3);
    const fitted = fitDetector(convs, ['x', 'noise']);
    expect(fitted.model.weights[0]).toBeGreaterThan(0);
    expect(ThresholdsSchema.safeParse(fitted.thresholds).success).toBe(true);
    // One high turn is not enough: the spikes in the absent conversations would enter otherwise.
    expect(fitted.thresholds.enterTurns).toBeGreaterThanOrEqual(2);
    expect(fitted.thresholds.exit).toBeLessThanOrEqual(fitted.thresholds.enter);
    for (const c of convs) expect(decide(fitted.thresholds, c, probabilities(fitted.model, c)), c.id).toBe(c.onset);
  });

  it('searches only the entry thresholds and run lengths it is given', () => {
    const convs = synthetic(4);
    const fitted = fitDetector(convs, ['x'], { enter: [0.55], enterTurns: [3] });
    expect(fitted.thresholds).toEqual({ enter: 0.55, exit: 0.33, enterTurns: 3, exitTurns: 3 });
  });

  it('a positive conversation without an onset counts from its middle', () => {
    const rows = (high: (t: number) => boolean) => Array.from({ length: 10 }, (_, i) => ({ x: high(i + 1) ? 1 : 0 }));
    const convs = [conversation('p', rows((t) => t >= 6), true, null), conversation('p2', rows((t) => t >= 6), true, null), conversation('n', rows(() => false), false, null), conversation('n2', rows(() => false), false, null)];
    const fitted = fitDetector(convs, ['x']);
    expect(decide(fitted.thresholds, convs[0]!, probabilities(fitted.model, convs[0]!))).toBe(6);
    expect(decide(fitted.thresholds, convs[2]!, probabilities(fitted.model, convs[2]!))).toBeNull();
  });

  it('decide uses both routes: the hand-set signal enters a conversation the model scores 0 throughout', () => {
    const model = { enter: 0.5, exit: 0.3, enterTurns: 2, exitTurns: 3 };
    const signalThresholds = { enter: 0.6, exit: 0.35, enterTurns: 2, exitTurns: 2 };
    const zeros = Array.from({ length: 8 }, () => 0);
    const base = { speakers: zeros.map((_, i) => (i % 2 ? 'b' : 'a')), turns: zeros.map((_, i) => i + 1) };
    expect(decide(model, base, zeros)).toBeNull();
    expect(decide(model, { ...base, signal: { scores: [0, 0, 0, 0.9, 0.9, 0.9, 0, 0], thresholds: signalThresholds } }, zeros)).toBe(4);
    // The earlier of the two routes' onsets.
    expect(decide(model, { ...base, signal: { scores: [0, 0, 0, 0, 0, 0.9, 0.9, 0], thresholds: signalThresholds } }, [0, 0.8, 0.8, 0, 0, 0, 0, 0])).toBe(2);
  });

  it('fits beside the signal route: conversations the signal already enters do not need the model', () => {
    // Half the positives show x; the other half are caught only by their signal, which must not teach the
    // thresholds to fire on everything.
    const signalThresholds = { enter: 0.6, exit: 0.35, enterTurns: 2, exitTurns: 2 };
    const withSignal = (c: LabelledConversation, from: number | null): LabelledConversation => ({
      ...c,
      signal: { scores: c.rows.map((_, i) => (from !== null && i + 1 >= from ? 0.9 : 0)), thresholds: signalThresholds },
    });
    const rows = (from: number | null) => Array.from({ length: 10 }, (_, i) => ({ x: from !== null && i + 1 >= from ? 1 : 0 }));
    const convs = [
      withSignal(conversation('x1', rows(4), true, 4), null),
      withSignal(conversation('x2', rows(5), true, 5), null),
      withSignal(conversation('s1', rows(null), true, 3), 3),
      withSignal(conversation('s2', rows(null), true, 6), 6),
      withSignal(conversation('n1', rows(null), false, null), null),
      withSignal(conversation('n2', rows(null), false, null), null),
    ];
    const fitted = fitDetector(convs, ['x']);
    expect(convs.map((c) => decide(fitted.thresholds, c, probabilities(fitted.model, c)))).toEqual([4, 5, 3, 6, null, null]);
  });
});

describe('fits that need care', () => {
  it('ties go to the more cautious setting: the highest threshold and longest run that do as well', () => {
    const rows = (onset: number | null) => Array.from({ length: 10 }, (_, i) => ({ x: onset !== null && i + 1 >= onset ? 1 : 0 }));
    const convs = [conversation('p1', rows(4), true, 4), conversation('p2', rows(5), true, 5), conversation('n1', rows(null), false, null), conversation('n2', rows(null), false, null)];
    const fitted = fitDetector(convs, ['x']);
    for (const c of convs) expect(decide(fitted.thresholds, c, probabilities(fitted.model, c))).toBe(c.onset);
    // Every setting up to the top of the grid separates these perfectly with exact onsets; the cautious end wins.
    expect(fitted.thresholds.enter).toBeGreaterThan(0.3);
  });

  it('with fewer groups than folds, folds are made of single conversations instead of training on nothing', () => {
    const rows = (onset: number | null) => Array.from({ length: 10 }, (_, i) => ({ x: onset !== null && i + 1 >= onset ? 1 : 0 }));
    const convs = [
      conversation('p1', rows(4), true, 4, 'same'),
      conversation('p2', rows(5), true, 5, 'same'),
      conversation('p3', rows(3), true, 3, 'same'),
      conversation('n1', rows(null), false, null, 'same'),
      conversation('n2', rows(null), false, null, 'same'),
      conversation('n3', rows(null), false, null, 'same'),
    ];
    expect(groupedFolds(convs, 3)).toBe(false);
    const outcomes = crossValidate(convs, ['x'], 3);
    expect(outcomes).toHaveLength(6);
    // A fold trained on nothing would call every conversation at turn 1; trained on the others, none of the absent ones enter.
    for (const o of outcomes.filter((o) => !o.present)) expect(o.detected, o.id).toBeNull();
    for (const o of outcomes.filter((o) => o.present)) expect(o.detected, o.id).toBe(o.labelledOnset);
  });
});

describe('crossValidate', () => {
  /**
   * Each group has a feature of its own, non-zero only in that group's positive turns. A detector fitted
   * with the group in training finds its positives at their onsets; one fitted without it sees that
   * feature flat at 0 and gives all the group's turns one and the same probability, so it can only decide
   * a held-out conversation at turn 1 or never. A leak of siblings into training shows as an onset > 1.
   */
  const GROUPS = ['g1', 'g2', 'g3', 'g4', 'g5'];
  const FEATURES = GROUPS.map((g) => `f:${g}`);
  function grouped(): LabelledConversation[] {
    const out: LabelledConversation[] = [];
    GROUPS.forEach((g, gi) => {
      for (let k = 0; k < 2 + (gi % 3); k++) {
        const present = k % 2 === 0;
        const onset = present ? 4 + k : null;
        const rows = Array.from({ length: 10 }, (_, i) => ({ [`f:${g}`]: onset !== null && i + 1 >= onset ? 1 : 0 }));
        out.push(conversation(`${g}-${k}`, rows, present, onset, g));
      }
    });
    return out;
  }

  it('the design is leak-sensitive: fitted on everything, every conversation is decided at its onset', () => {
    const convs = grouped();
    const fitted = fitDetector(convs, FEATURES);
    for (const c of convs) expect(decide(fitted.thresholds, c, probabilities(fitted.model, c)), c.id).toBe(c.onset);
  });

  it.each([2, 3, 5])('k = %i: a group is never on both sides of a fold, and each conversation has one held-out outcome', (k) => {
    const convs = grouped();
    const outcomes = crossValidate(convs, FEATURES, k);
    expect(outcomes.map((o) => o.id).sort()).toEqual(convs.map((c) => c.id).sort());
    for (const o of outcomes) {
      const c = convs.find((x) => x.id === o.id)!;
      expect(o.present).toBe(c.present);
      expect(o.labelledOnset).toBe(c.onset);
      // Held out with its whole group: never found at its (later) onset.
      expect(o.detected === null || o.detected === 1, `${o.id} detected at ${o.detected}`).toBe(true);
    }
    // Folds are whole groups: siblings share a fold, so they are decided alike.
    for (const g of GROUPS) expect(new Set(outcomes.filter((o) => o.id.startsWith(`${g}-`)).map((o) => o.detected)).size).toBe(1);
  });

  it('alwaysTrain conversations join every training set and are never tested', () => {
    const convs = grouped();
    const extra = [
      conversation('extra-1', Array.from({ length: 10 }, (_, i) => ({ 'f:g1': i + 1 >= 3 ? 1 : 0 })), true, 3, 'g1'),
      conversation('extra-2', Array.from({ length: 10 }, () => ({ 'f:g1': 0 })), false, null, 'g1'),
    ];
    const outcomes = crossValidate(convs, FEATURES, 3, {}, extra);
    expect(outcomes.map((o) => o.id).sort()).toEqual(convs.map((c) => c.id).sort());
    // g1 is held out, but the extra conversations taught its feature: its positive is found at its onset.
    expect(outcomes.find((o) => o.id === 'g1-0')!.detected).toBe(4);
    expect(outcomes.find((o) => o.id === 'g1-1')!.detected).toBeNull();
    expect(outcomes.find((o) => o.id === 'g2-0')!.detected).not.toBe(4);
  });

  it('agrees with fitting on the other group when there are two groups and two folds', () => {
    const r = random(11);
    const rows = (onset: number | null) => Array.from({ length: 10 }, (_, i) => ({ x: (onset !== null && i + 1 >= onset ? 1 : 0) + 0.1 * r(), y: r() }));
    const a = [conversation('a1', rows(3), true, 3, 'A'), conversation('a2', rows(null), false, null, 'A'), conversation('a3', rows(6), true, 6, 'A')];
    const b = [conversation('b1', rows(5), true, 5, 'B'), conversation('b2', rows(null), false, null, 'B'), conversation('b3', rows(null), false, null, 'B')];
    const outcomes = crossValidate([...a, ...b], ['x', 'y'], 2);
    const heldOut = (test: LabelledConversation[], train: LabelledConversation[]) => {
      const f = fitDetector(train, ['x', 'y']);
      return test.map((c) => ({ id: c.id, present: c.present, detected: decide(f.thresholds, c, probabilities(f.model, c)), labelledOnset: c.onset }));
    };
    const expected = [...heldOut(a, b), ...heldOut(b, a)];
    expect([...outcomes].sort((x, y) => (x.id < y.id ? -1 : 1))).toEqual(expected);
  });
});

describe('expected signs', () => {
  it('a feature whose weight points against its expected sign is dropped and the model refitted', () => {
    const r = random(11);
    // x rises with the attractor; z is noise correlated with x in this sample, fitted negative when free.
    const convs = Array.from({ length: 8 }, (_, k) => {
      const onset = k < 4 ? 3 + k : null;
      const rows = Array.from({ length: 10 }, (_, i) => {
        const on = onset !== null && i + 1 >= onset;
        const x = on ? 0.8 + 0.2 * r() : 0.2 * r();
        return { x, z: on ? 0.5 - 0.4 * r() : 0.5 + 0.4 * r() };
      });
      return conversation(`c${k}`, rows, onset !== null, onset);
    });
    const free = fitDetector(convs, ['x', 'z']);
    expect(free.model.weights[1]).toBeLessThan(0);
    const signed = fitDetector(convs, ['x', 'z'], { signs: { x: 1, z: 1 } });
    expect(signed.model.features).toEqual(['x']);
    expect(signed.model.weights[0]).toBeGreaterThan(0);
  });
});
