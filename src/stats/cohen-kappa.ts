import { Z95 } from './wilson.js';

/** Two raters' yes/no verdicts on the same items, as a 2×2 table of counts. */
export interface TwoByTwo {
  /** Both said yes. */
  both: number;
  /** Only the first rater said yes. */
  firstOnly: number;
  /** Only the second rater said yes. */
  secondOnly: number;
  /** Both said no. */
  neither: number;
}

/** How the 95% interval of κ is computed (printed with every agreement table). */
export const KAPPA_CI_METHOD = 'κ ± 1.96 × the large-sample standard error of Fleiss, Cohen & Everitt (1969), clipped to [-1, 1]';

/** Cohen's κ with its interval, or why it is undefined. */
export type Kappa =
  | { n: number; agreement: number; kappa: number; se: number; ci95: [number, number] }
  | { n: number; agreement: number | null; kappa: null; undefinedBecause: string };

/**
 * Cohen's κ for two raters on a yes/no question: (p_o − p_e) / (1 − p_e), p_o the share of items they agree
 * on, p_e the share expected by chance from their marginals. κ is undefined with no items or when a rater gave
 * one answer to every item: agreement beyond chance then cannot be told apart (p_e may reach 1 and κ 0/0,
 * or the formula gives 0 whatever the other rater did), so it is reported as undefined rather than as 0.
 * The standard error is the large-sample one of Fleiss, Cohen & Everitt (1969), valid for any κ (not only 0).
 */
export function cohenKappa(t: TwoByTwo, names: [string, string] = ['the first rater', 'the second rater']): Kappa {
  const n = t.both + t.firstOnly + t.secondOnly + t.neither;
  if (n === 0) return { n, agreement: null, kappa: null, undefinedBecause: 'no item has both verdicts' };
  const agreement = (t.both + t.neither) / n;
  const firstYes = t.both + t.firstOnly;
  const secondYes = t.both + t.secondOnly;
  const constant = (yes: number, who: string) => (yes === n ? `${who} said present for every run` : yes === 0 ? `${who} said absent for every run` : undefined);
  const why = constant(firstYes, names[0]) ?? constant(secondYes, names[1]);
  if (why) return { n, agreement, kappa: null, undefinedBecause: why };

  // Proportions: row i = first rater (0 yes, 1 no), column j = second rater.
  const p = [
    [t.both / n, t.firstOnly / n],
    [t.secondOnly / n, t.neither / n],
  ] as const;
  const row = [firstYes / n, 1 - firstYes / n] as const;
  const col = [secondYes / n, 1 - secondYes / n] as const;
  const pe = row[0] * col[0] + row[1] * col[1];
  const kappa = (agreement - pe) / (1 - pe);
  const a = p[0][0] * (1 - (row[0] + col[0]) * (1 - kappa)) ** 2 + p[1][1] * (1 - (row[1] + col[1]) * (1 - kappa)) ** 2;
  const b = (1 - kappa) ** 2 * (p[0][1] * (col[0] + row[1]) ** 2 + p[1][0] * (col[1] + row[0]) ** 2);
  const c = (kappa - pe * (1 - kappa)) ** 2;
  // a + b − c is a variance; rounding can leave it a hair below 0 at perfect agreement.
  const se = Math.sqrt(Math.max(0, a + b - c)) / ((1 - pe) * Math.sqrt(n));
  return { n, agreement, kappa, se, ci95: [Math.max(-1, kappa - Z95 * se), Math.min(1, kappa + Z95 * se)] };
}
