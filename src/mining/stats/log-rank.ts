import { chiSquareSurvival } from './chi-square.js';
import type { SurvivalObservation } from './kaplan-meier.js';

export interface LogRankResult {
  /** The chi-square statistic, with groups − 1 degrees of freedom. */
  chiSquare: number;
  df: number;
  p: number;
  /** Per group: observed and expected events under the hypothesis that every group shares one curve. */
  groups: { observed: number; expected: number; n: number }[];
}

/** Solve A x = b by Gaussian elimination with partial pivoting; undefined when A is singular. */
function solve(a: number[][], b: number[]): number[] | undefined {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]!]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r]![col]!) > Math.abs(m[pivot]![col]!)) pivot = r;
    if (Math.abs(m[pivot]![col]!) < 1e-12) return undefined;
    [m[col], m[pivot]] = [m[pivot]!, m[col]!];
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = m[r]![col]! / m[col]![col]!;
      for (let k = col; k <= n; k++) m[r]![k]! -= f * m[col]![k]!;
    }
  }
  return m.map((row, i) => row[n]! / row[i]!);
}

/**
 * The log-rank (Mantel–Cox) test that several groups' times to an attractor come from one survival curve.
 * At every turn where some run entered, each group's expected entries are its share of the runs at risk;
 * the statistic is (O − E)ᵀ V⁻¹ (O − E) over the first k − 1 groups, with V the hypergeometric covariance.
 * Undefined (null) with fewer than two groups holding runs, or when no run entered anywhere. Groups come back
 * in the order given (a group without runs: all zero).
 */
export function logRank(groups: readonly (readonly SurvivalObservation[])[]): LogRankResult | null {
  const index = groups.flatMap((g, i) => (g.length > 0 ? [i] : []));
  const used = index.map((i) => groups[i]!);
  const k = used.length;
  if (k < 2) return null;
  const times = [...new Set(used.flatMap((g) => g.filter((o) => o.event).map((o) => o.time)))].sort((a, b) => a - b);
  if (times.length === 0) return null;
  const observed = new Array<number>(k).fill(0);
  const expected = new Array<number>(k).fill(0);
  const v = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (const t of times) {
    // At risk at t: runs whose time is t or later (a run censored at t was still observed at t).
    const atRisk = used.map((g) => g.filter((o) => o.time >= t).length);
    const events = used.map((g) => g.filter((o) => o.event && o.time === t).length);
    const n = atRisk.reduce((a, b) => a + b, 0);
    const d = events.reduce((a, b) => a + b, 0);
    if (n === 0 || d === 0) continue;
    const spread = n > 1 ? (d * (n - d)) / (n - 1) : 0;
    for (let i = 0; i < k; i++) {
      observed[i]! += events[i]!;
      expected[i]! += (d * atRisk[i]!) / n;
      for (let j = 0; j < k; j++) {
        const share = atRisk[i]! / n;
        v[i]![j]! += spread * ((i === j ? 1 : 0) - atRisk[j]! / n) * share;
      }
    }
  }
  const diff = observed.map((o, i) => o - expected[i]!).slice(0, k - 1);
  const sub = v.slice(0, k - 1).map((row) => row.slice(0, k - 1));
  const x = solve(sub, diff);
  const chiSquare = x ? Math.max(0, diff.reduce((s, di, i) => s + di * x[i]!, 0)) : 0;
  const df = k - 1;
  return {
    chiSquare,
    df,
    p: x ? chiSquareSurvival(chiSquare, df) : 1,
    groups: groups.map((g, i) => {
      const u = index.indexOf(i);
      return u < 0 ? { observed: 0, expected: 0, n: 0 } : { observed: observed[u]!, expected: expected[u]!, n: g.length };
    }),
  };
}
