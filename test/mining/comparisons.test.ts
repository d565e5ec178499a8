import { describe, expect, it } from 'vitest';
import { planComparisons, type ComparedGroup } from '../../src/mining/stats/comparisons.js';
import { fisherExact } from '../../src/mining/stats/fisher.js';

const g = (key: string, factors: Record<string, string>, analysed: number, entered: Record<string, number>): ComparedGroup => ({ key, factors, analysed, entered });

describe('planComparisons', () => {
  const groups = [
    g('s1·A', { scenario: 's1', pairing: 'A' }, 6, { bliss: 6, wedding: 0 }),
    g('s1·B', { scenario: 's1', pairing: 'B' }, 6, { bliss: 1, wedding: 0 }),
    g('s2·A', { scenario: 's2', pairing: 'A' }, 6, { bliss: 5, wedding: 2 }),
    g('s2·B', { scenario: 's2', pairing: 'B' }, 6, { bliss: 0, wedding: 0 }),
    g('empty', { scenario: 's3', pairing: 'A' }, 0, {}),
  ];

  it('compares only groups that differ in one factor, and leaves out tables that cannot show a difference', () => {
    const plan = planComparisons(groups, ['bliss', 'wedding']);
    // 4 usable groups: 6 pairs, of which s1·A–s2·B and s1·B–s2·A differ in both factors.
    expect(plan.pairsOffFactor).toBe(2);
    const keys = plan.tests.map((t) => `${t.attractor}:${t.a}|${t.b}:${t.factor}`);
    expect(keys).toEqual([
      'bliss:s1·A|s1·B:pairing',
      'bliss:s1·A|s2·A:scenario',
      'wedding:s1·A|s2·A:scenario',
      'bliss:s1·B|s2·B:scenario',
      'bliss:s2·A|s2·B:pairing',
      'wedding:s2·A|s2·B:pairing',
    ]);
    // wedding 0/6 vs 0/6 in s1·A–s1·B and s1·B–s2·B: left out and counted.
    expect(plan.uninformative).toBe(2);
    const first = plan.tests[0]!;
    expect(first.p).toBeCloseTo(fisherExact(6, 0, 1, 5), 12);
  });

  it('adjusts every p-value of the family with Holm', () => {
    const plan = planComparisons(groups, ['bliss', 'wedding']);
    const m = plan.tests.length;
    const sorted = [...plan.tests].sort((a, b) => a.p - b.p);
    expect(sorted[0]!.pHolm).toBeCloseTo(Math.min(1, m * sorted[0]!.p), 12);
    for (const t of plan.tests) expect(t.pHolm).toBeGreaterThanOrEqual(t.p);
    // Monotone in the order of the raw p-values.
    for (let i = 1; i < sorted.length; i++) expect(sorted[i]!.pHolm).toBeGreaterThanOrEqual(sorted[i - 1]!.pHolm);
  });

  it('compares every pair when asked, naming the factor only where there is one', () => {
    const plan = planComparisons(groups, ['bliss'], 'all');
    expect(plan.pairsOffFactor).toBe(0);
    // 4 usable groups: 6 pairs, and bliss entered somewhere but not everywhere in each of them.
    expect(plan.tests).toHaveLength(6);
    const offFactor = plan.tests.find((t) => t.a === 's1·A' && t.b === 's2·B')!;
    expect(offFactor.factor).toBeUndefined();
  });
});
