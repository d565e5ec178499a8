// Attractor detection on real model conversations: grouped k-fold cross-validation on the shared labels
// (../shared/eval/backrooms-dev-labels.json), and a held-out check on this project's own labels
// (eval/backrooms-extra-labels.json) of a detector fitted without them. The corpus (the var/backrooms_logs folder
// of samhains/UniversalBackrooms) is read from ARENA_BACKROOMS_DIR; without it this bench says so and stops.
//
// Folds keep every conversation of one template and model pair on one side. Each fold's detectors are fitted
// on the other folds plus the written evaluation set's conversations as negatives, exactly as the shipped
// calibration is (scripts/fit-detectors.mjs); the hand-set signal route runs beside the fitted model, as live.
import { DETECTOR_SPECS } from '../dist/analysis/detector-specs.js';
import { conversationsFor, crossValidateRuns, fitCalibration } from '../dist/analysis/fit-runs.js';
import { decide } from '../dist/analysis/fit.js';
import { predict } from '../dist/analysis/detector-model.js';
import { wilson } from '../dist/stats/wilson.js';
import { negativesOf, realCorpus, realRuns, selfWrittenRuns } from './eval/labelled.mjs';

const FOLDS = 5;

export default async function () {
  const corpus = realCorpus();
  if (corpus.missing) {
    process.stderr.write(`detection-real: skipped: ${corpus.missing}\n`);
    return { skipped: corpus.missing };
  }
  const t0 = performance.now();
  const { runs, extraRuns, unmatched } = await realRuns(corpus);
  const written = negativesOf(selfWrittenRuns());
  const attractors = Object.keys(DETECTOR_SPECS);
  const crossValidated = {};
  for (const a of attractors) {
    const r = crossValidateRuns(runs, a, FOLDS, DETECTOR_SPECS[a], written);
    if (r) crossValidated[a] = r;
  }
  const { calibration } = fitCalibration([...runs, ...written], attractors);
  const heldOut = {};
  for (const a of attractors) {
    const fitted = calibration.attractors[a];
    if (!fitted) continue;
    let tp = 0, fp = 0, fn = 0, onsets = 0, within = 0;
    for (const c of conversationsFor(extraRuns, a)) {
      const found = decide(fitted.thresholds, c, c.rows.map((row) => predict(fitted.model, row)));
      if (found !== null && c.present) {
        tp++;
        if (c.onset !== null) {
          onsets++;
          if (Math.abs(found - c.onset) <= 3) within++;
        }
      } else if (found !== null) fp++;
      else if (c.present) fn++;
    }
    heldOut[a] = { tp, fp, fn, precision: ratio(tp, tp + fp), recall: ratio(tp, tp + fn), ci95: { precision: ci(tp, tp + fp), recall: ci(tp, tp + fn) }, onsetWithin3: ratio(within, onsets) };
  }
  return {
    corpus: { sharedLabelled: runs.length, extraLabelled: extraRuns.length, unmatchedLabels: unmatched.length, minConfidence: 'medium', writtenNegatives: written.length },
    crossValidated: { folds: FOLDS, grouping: 'template × model pair', attractors: crossValidated },
    heldOutExtraLabels: heldOut,
    seconds: Math.round((performance.now() - t0) / 100) / 10,
  };
}

function ratio(a, n) {
  return n === 0 ? null : Math.round((a / n) * 1e4) / 1e4;
}

function ci(a, n) {
  return n === 0 ? [0, 1] : wilson(a, n).map((x) => Math.round(x * 1e4) / 1e4);
}
