import { judgeKey, readJudgements, type JudgeChoice } from '../analysis/eval/judge-reading.js';
import { cohenKappa, KAPPA_CI_METHOD } from '../stats/cohen-kappa.js';
import type { RunSummary } from './run-summary.js';
import { detectorScored } from './verdict-source.js';

/** How far one judge and the detectors agree on one attractor, over the runs both have a verdict for. */
export interface AttractorAgreement {
  attractor: string;
  /** Runs with a verdict from both. */
  n: number;
  /** Runs left out: the judge's verdict is missing, failed or partial, or the detectors did not look for it. */
  leftOut: number;
  table: { both: number; judgeOnly: number; detectorOnly: number; neither: number };
  /** Share of the n runs on which they agree; null when n is 0. */
  agreement: number | null;
  /** Cohen's κ; null when undefined (see `undefinedBecause`), never 0 or NaN in its place. */
  kappa: number | null;
  se: number | null;
  ci95: [number, number] | null;
  undefinedBecause?: string;
}

/** The `stats --agreement --json` object. */
export interface AgreementResult {
  judge: JudgeChoice;
  /** How the κ interval is computed. */
  method: string;
  /** Runs read. */
  runs: number;
  attractors: AttractorAgreement[];
}

/**
 * Cohen's κ between one judge and the detectors, per attractor the judge named. The judge's verdict is read as
 * `arena eval --source judge` reads it (a failed or partial judgement is no verdict, never "absent"); the
 * detectors' is the analysis in the log, for attractors it scored. Detector and judge both "present" means the
 * run entered the attractor at some turn for both; onsets are not compared.
 */
export function judgeAgreement(runs: readonly RunSummary[], judge: JudgeChoice): AgreementResult {
  const key = judgeKey(judge);
  const readings = runs.map((s) => readJudgements(s.judgements, s.lastTurn).get(key));
  const names = new Set<string>();
  for (const r of readings) if (r) for (const a of [...r.named, ...r.found.keys()]) names.add(a);
  const attractors = [...names].sort().map((attractor): AttractorAgreement => {
    const table = { both: 0, judgeOnly: 0, detectorOnly: 0, neither: 0 };
    runs.forEach((s, i) => {
      const reading = readings[i];
      if (!reading?.scored.has(attractor) || !detectorScored(s, attractor)) return;
      const j = reading.found.has(attractor);
      const d = s.onsets.has(attractor);
      if (j && d) table.both++;
      else if (j) table.judgeOnly++;
      else if (d) table.detectorOnly++;
      else table.neither++;
    });
    const k = cohenKappa({ both: table.both, firstOnly: table.judgeOnly, secondOnly: table.detectorOnly, neither: table.neither }, ['the judge', 'the detectors']);
    const common = { attractor, n: k.n, leftOut: runs.length - k.n, table, agreement: k.agreement };
    return k.kappa === null ? { ...common, kappa: null, se: null, ci95: null, undefinedBecause: k.undefinedBecause } : { ...common, kappa: k.kappa, se: k.se, ci95: k.ci95 };
  });
  return { judge, method: KAPPA_CI_METHOD, runs: runs.length, attractors };
}
