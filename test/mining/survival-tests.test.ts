import { describe, expect, it } from 'vitest';
import { chiSquareSurvival } from '../../src/mining/stats/chi-square.js';
import { holm } from '../../src/mining/stats/holm.js';
import { kaplanMeier, medianOnset, type SurvivalObservation } from '../../src/mining/stats/kaplan-meier.js';
import { logRank } from '../../src/mining/stats/log-rank.js';

const obs = (pairs: [number, 0 | 1][]): SurvivalObservation[] => pairs.map(([time, e]) => ({ time, event: e === 1 }));
const A = obs([[3, 1], [5, 1], [5, 0], [7, 1], [8, 0], [10, 1], [12, 0], [12, 0]]);
const B = obs([[2, 1], [3, 1], [4, 1], [4, 0], [6, 1], [6, 1], [9, 0]]);
const C = obs([[5, 1], [9, 1], [11, 0], [14, 1], [15, 0]]);

// Reference figures from SciPy 1.17 (stats.ecdf(...).sf.confidence_interval(method='log-log'), stats.logrank,
// stats.chi2.sf), computed once by hand and copied here.
describe('Kaplan–Meier bands', () => {
  it('matches the log-log Greenwood band of an independent implementation', () => {
    const curve = kaplanMeier(A);
    const at = (t: number) => curve.find((p) => p.turn === t)!;
    const expected: [number, number, number, number][] = [
      [3, 0.875, 0.38700001403202516, 0.981392965878966],
      [5, 0.75, 0.314807113705519, 0.9308983170906275],
      [7, 0.6, 0.19549586608499794, 0.852254345762209],
      [10, 0.4, 0.06602977432753612, 0.7342253449917826],
    ];
    for (const [t, s, lo, hi] of expected) {
      expect(at(t).survival).toBeCloseTo(s, 10);
      expect(at(t).lower).toBeCloseTo(lo, 10);
      expect(at(t).upper).toBeCloseTo(hi, 10);
    }
    expect([at(1).lower, at(1).upper]).toEqual([1, 1]);
  });

  it('gives the median onset with the turns where the band reaches one half', () => {
    expect(medianOnset(kaplanMeier(A))).toEqual({ median: 10, lower: 3, upper: null });
    // Every run entered by turn 2: the curve and both bounds reach 0 there.
    expect(medianOnset(kaplanMeier(obs([[1, 1], [2, 1]])))).toEqual({ median: 1, lower: 1, upper: 2 });
    expect(medianOnset(kaplanMeier(obs([[4, 0], [6, 0]])))).toEqual({ median: null, lower: null, upper: null });
  });
});

describe('log-rank', () => {
  it('matches SciPy on two groups', () => {
    const r = logRank([A, B])!;
    expect(r.df).toBe(1);
    expect(r.chiSquare).toBeCloseTo(2.4624835386403876, 9);
    expect(r.p).toBeCloseTo(0.11659430092872618, 9);
    expect(r.groups.map((g) => g.observed)).toEqual([4, 5]);
  });

  it('takes k groups with k − 1 degrees of freedom, and keeps the groups in the order given', () => {
    const r = logRank([A, [], B, C])!;
    expect(r.df).toBe(2);
    expect(r.chiSquare).toBeCloseTo(4.267990332935685, 9);
    expect(r.p).toBeCloseTo(0.11836346622125717, 9);
    expect(r.groups.map((g) => g.n)).toEqual([8, 0, 7, 5]);
    expect(r.groups[3]!.expected).toBeCloseTo(4.80376677, 6);
  });

  it('is undefined with one group, or with no entry at all', () => {
    expect(logRank([A])).toBeNull();
    expect(logRank([obs([[3, 0]]), obs([[4, 0]])])).toBeNull();
  });
});

describe('chi-square tail and Holm', () => {
  it('matches SciPy chi2.sf', () => {
    expect(chiSquareSurvival(3.5, 1)).toBeCloseTo(0.0613688291394023, 12);
    expect(chiSquareSurvival(7.2, 3)).toBeCloseTo(0.06578905268507099, 12);
    expect(chiSquareSurvival(0.3, 2)).toBeCloseTo(0.8607079764250578, 12);
    expect(chiSquareSurvival(0, 4)).toBe(1);
  });

  it('adjusts step-down, monotone, capped at 1, in the order given', () => {
    const adjusted = holm([0.04, 0.01, 0.03, 0.5]);
    // sorted: 0.01×4 = 0.04, 0.03×3 = 0.09, 0.04×2 = 0.08 → 0.09 (monotone), 0.5×1 = 0.5
    expect(adjusted.map((p) => Math.round(p * 1e6) / 1e6)).toEqual([0.09, 0.04, 0.09, 0.5]);
    expect(holm([0.6, 0.7])).toEqual([1, 1]);
    expect(holm([])).toEqual([]);
  });
});
