import { Z95 } from '../../stats/wilson.js';

/** One subject for survival: the turn it entered the attractor (event) or was last seen (censored). */
export interface SurvivalObservation {
  time: number;
  event: boolean;
}

/** The estimate after one turn. */
export interface SurvivalPoint {
  turn: number;
  /** Runs still observed and not yet in the attractor at the start of this turn. */
  atRisk: number;
  /** Runs that entered at this turn. */
  events: number;
  /** Estimated share of runs not yet in the attractor after this turn. */
  survival: number;
  /**
   * Pointwise 95% band: Greenwood's variance on the log(−log S) scale (R survival's conf.type "log-log"),
   * which keeps the band inside [0, 1]. [1, 1] before the first entry; [0, 0] once every run at risk entered.
   */
  lower: number;
  upper: number;
}

/**
 * Kaplan–Meier estimate of the share of runs not yet in an attractor, for every turn 1..last observed
 * turn. A run that never entered is censored at its last turn: it counts as at risk through that turn and
 * then leaves the risk set, so short runs do not pass for runs that resisted the attractor.
 */
export function kaplanMeier(observations: readonly SurvivalObservation[]): SurvivalPoint[] {
  let last = 0;
  for (const o of observations) last = Math.max(last, o.time);
  const events = new Array<number>(last + 2).fill(0);
  const leaving = new Array<number>(last + 2).fill(0);
  for (const o of observations) {
    if (o.event) events[o.time]!++;
    leaving[o.time]!++;
  }
  // Runs seen for zero turns are never at risk.
  let atRisk = observations.length - leaving[0]!;
  let survival = 1;
  let greenwood = 0;
  const out: SurvivalPoint[] = [];
  for (let t = 1; t <= last; t++) {
    const d = events[t]!;
    if (atRisk > 0 && d > 0) {
      survival *= 1 - d / atRisk;
      if (atRisk > d) greenwood += d / (atRisk * (atRisk - d));
    }
    const [lower, upper] = band(survival, greenwood);
    out.push({ turn: t, atRisk, events: d, survival, lower, upper });
    atRisk -= leaving[t]!;
  }
  return out;
}

function band(s: number, greenwood: number, z = Z95): [number, number] {
  if (s >= 1) return [1, 1];
  if (s <= 0) return [0, 0];
  const se = Math.sqrt(greenwood) / Math.abs(Math.log(s));
  return [s ** Math.exp(z * se), s ** Math.exp(-z * se)];
}

/**
 * The median turn of entry (the first turn where the estimate is at or below 0.5) with its 95% interval
 * (Brookmeyer–Crowley, read off the band: the first turns where the lower and the upper bound reach 0.5).
 * null where the curve, or a bound, never gets there: the median is then "not reached".
 */
export function medianOnset(curve: readonly SurvivalPoint[]): { median: number | null; lower: number | null; upper: number | null } {
  const first = (pick: (p: SurvivalPoint) => number) => curve.find((p) => pick(p) <= 0.5)?.turn ?? null;
  return { median: first((p) => p.survival), lower: first((p) => p.lower), upper: first((p) => p.upper) };
}
