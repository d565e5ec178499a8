import { fisherExact } from './fisher.js';
import { holm } from './holm.js';

/** A group as comparisons see it: its factor values, and per attractor how many of its analysed runs entered. */
export interface ComparedGroup {
  key: string;
  /** Factor → value (e.g. scenario, pairing, temperature). Groups differing in exactly one factor are compared. */
  factors: Readonly<Record<string, string>>;
  analysed: number;
  entered: Readonly<Record<string, number>>;
}

export interface PairTest {
  attractor: string;
  a: string;
  b: string;
  /** The factor the two groups differ in; undefined when every pair was asked for and they differ in several. */
  factor?: string;
  countA: number;
  runsA: number;
  countB: number;
  runsB: number;
  /** Fisher's exact test, two-sided. */
  p: number;
  /** Holm-adjusted over every test in the returned list. */
  pHolm: number;
}

export interface ComparisonPlan {
  tests: PairTest[];
  /** Pairs of groups left out because they differ in more than one factor. */
  pairsOffFactor: number;
  /**
   * Tables left out because no test could find a difference in them: in both groups no run entered, or
   * every run did (the only table with those margins, p = 1 whatever happened).
   */
  uninformative: number;
}

/** The factors in which two groups differ. */
export function differingFactors(a: ComparedGroup, b: ComparedGroup): string[] {
  const names = new Set([...Object.keys(a.factors), ...Object.keys(b.factors)]);
  return [...names].filter((f) => a.factors[f] !== b.factors[f]).sort();
}

/**
 * Pairwise Fisher tests of incidence, per attractor, between groups that differ in exactly one factor
 * (`pairs: 'all'`: between every pair), with Holm's correction over the whole family of tests returned.
 */
export function planComparisons(groups: readonly ComparedGroup[], attractors: readonly string[], pairs: 'one-factor' | 'all' = 'one-factor'): ComparisonPlan {
  const tests: Omit<PairTest, 'pHolm'>[] = [];
  let pairsOffFactor = 0;
  let uninformative = 0;
  const usable = groups.filter((g) => g.analysed > 0);
  for (let i = 0; i < usable.length; i++) {
    for (let j = i + 1; j < usable.length; j++) {
      const g = usable[i]!;
      const h = usable[j]!;
      const diff = differingFactors(g, h);
      if (pairs === 'one-factor' && diff.length !== 1) {
        pairsOffFactor++;
        continue;
      }
      for (const attractor of attractors) {
        const x = g.entered[attractor] ?? 0;
        const y = h.entered[attractor] ?? 0;
        if (x + y === 0 || x + y === g.analysed + h.analysed) {
          uninformative++;
          continue;
        }
        tests.push({
          attractor,
          a: g.key,
          b: h.key,
          ...(diff.length === 1 ? { factor: diff[0]! } : {}),
          countA: x,
          runsA: g.analysed,
          countB: y,
          runsB: h.analysed,
          p: fisherExact(x, g.analysed - x, y, h.analysed - y),
        });
      }
    }
  }
  const adjusted = holm(tests.map((t) => t.p));
  return { tests: tests.map((t, i) => ({ ...t, pHolm: adjusted[i]! })), pairsOffFactor, uninformative };
}
