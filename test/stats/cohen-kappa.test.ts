import { describe, expect, it } from 'vitest';
import { cohenKappa } from '../../src/stats/cohen-kappa.js';

describe('cohenKappa', () => {
  it('matches a table worked by hand: 20 both, 5 first only, 10 second only, 15 neither', () => {
    // n = 50; p_o = 35/50 = 0.7; first says yes 25/50 = 0.5, second 30/50 = 0.6;
    // p_e = 0.5·0.6 + 0.5·0.4 = 0.5; κ = (0.7 − 0.5) / (1 − 0.5) = 0.4.
    // Fleiss–Cohen–Everitt: A = 0.4·(1 − 1.1·0.6)² + 0.3·(1 − 0.9·0.6)² = 0.04624 + 0.06348 = 0.10972;
    // B = 0.6²·(0.1·(0.6 + 0.5)² + 0.2·(0.4 + 0.5)²) = 0.36·0.283 = 0.10188; C = (0.4 − 0.5·0.6)² = 0.01;
    // se = √(0.2016) / (0.5·√50) = 0.449 / 3.5355 = 0.12700; interval 0.4 ± 1.96·0.12700 = [0.1511, 0.6489].
    const k = cohenKappa({ both: 20, firstOnly: 5, secondOnly: 10, neither: 15 });
    if (k.kappa === null) throw new Error(k.undefinedBecause);
    expect(k.n).toBe(50);
    expect(k.agreement).toBeCloseTo(0.7, 12);
    expect(k.kappa).toBeCloseTo(0.4, 12);
    expect(k.se).toBeCloseTo(0.126996, 5);
    expect(k.ci95[0]).toBeCloseTo(0.15109, 4);
    expect(k.ci95[1]).toBeCloseTo(0.64891, 4);
  });

  it('matches a small table worked by hand: 3, 1, 1, 5', () => {
    // p_o = 0.8; marginals 0.4 and 0.4; p_e = 0.16 + 0.36 = 0.52; κ = 0.28 / 0.48 = 7/12.
    // A = 0.3·(1 − 0.8·5/12)² + 0.5·(1 − 1.2·5/12)² = 0.13333 + 0.125 = 0.25833;
    // B = (5/12)²·(0.1·1² + 0.1·1²) = 0.034722; C = (7/12 − 0.52·5/12)² = 0.134444;
    // se = √0.158611 / (0.48·√10) = 0.262377.
    const k = cohenKappa({ both: 3, firstOnly: 1, secondOnly: 1, neither: 5 });
    if (k.kappa === null) throw new Error(k.undefinedBecause);
    expect(k.kappa).toBeCloseTo(7 / 12, 12);
    expect(k.se).toBeCloseTo(0.262377, 5);
    expect(k.ci95).toEqual([expect.closeTo(7 / 12 - 1.959964 * 0.262377, 4), expect.closeTo(Math.min(1, 7 / 12 + 1.959964 * 0.262377), 4)]);
  });

  it('is 1 with a zero-width interval when the raters agree on every item, and negative when they disagree more than chance', () => {
    const perfect = cohenKappa({ both: 4, firstOnly: 0, secondOnly: 0, neither: 6 });
    expect(perfect).toMatchObject({ kappa: 1, se: 0, ci95: [1, 1], agreement: 1 });
    // p_o = 0.2, marginals 0.5 and 0.5: p_e = 0.5, κ = (0.2 − 0.5) / 0.5 = −0.6; the interval is clipped at −1.
    const opposed = cohenKappa({ both: 1, firstOnly: 4, secondOnly: 4, neither: 1 });
    if (opposed.kappa === null) throw new Error(opposed.undefinedBecause);
    expect(opposed.kappa).toBeCloseTo(-0.6, 12);
    expect(opposed.ci95[0]).toBeGreaterThanOrEqual(-1);
    expect(opposed.ci95[1]).toBeLessThan(0);
  });

  it('is undefined, with the reason, when a rater gives one answer to every item or there is no item', () => {
    expect(cohenKappa({ both: 3, firstOnly: 0, secondOnly: 2, neither: 0 }, ['the judge', 'the detectors'])).toEqual({ n: 5, agreement: 0.6, kappa: null, undefinedBecause: 'the detectors said present for every run' });
    expect(cohenKappa({ both: 0, firstOnly: 0, secondOnly: 2, neither: 3 }, ['the judge', 'the detectors'])).toEqual({ n: 5, agreement: 0.6, kappa: null, undefinedBecause: 'the judge said absent for every run' });
    expect(cohenKappa({ both: 0, firstOnly: 0, secondOnly: 0, neither: 0 })).toEqual({ n: 0, agreement: null, kappa: null, undefinedBecause: 'no item has both verdicts' });
  });
});
