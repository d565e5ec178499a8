// Refits the built-in calibration (src/analysis/calibration/builtin.json) from the labelled real corpus and
// the project's written evaluation set. Needs ARENA_BACKROOMS_DIR (see the README); run after `npm run build`:
//   ARENA_BACKROOMS_DIR=/path/to/var/backrooms_logs node scripts/fit-detectors.mjs
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DETECTOR_SPECS } from '../dist/analysis/detector-specs.js';
import { fitCalibration } from '../dist/analysis/fit-runs.js';
import { negativesOf, realCorpus, realRuns, selfWrittenRuns } from '../bench/eval/labelled.mjs';

const corpus = realCorpus();
if (corpus.missing) {
  process.stderr.write(`fit-detectors: ${corpus.missing}\n`);
  process.exit(2);
}
const { runs, unmatched, extraRuns } = await realRuns(corpus);
const written = negativesOf(selfWrittenRuns());
const { calibration, skipped } = fitCalibration([...runs, ...extraRuns, ...written], Object.keys(DETECTOR_SPECS), DETECTOR_SPECS, {
  labels: ['shared/eval/backrooms-dev-labels.json', 'eval/backrooms-extra-labels.json'],
  labelsSha256: createHash('sha256').update(readFileSync(corpus.labels)).update(readFileSync(corpus.extra)).digest('hex').slice(0, 16),
  minConfidence: 'medium',
  realRuns: runs.length + extraRuns.length,
  writtenNegatives: written.length,
  unmatchedLabels: unmatched.length,
});
const out = join(dirname(fileURLToPath(import.meta.url)), '../src/analysis/calibration/builtin.json');
const description =
  'Built-in detectors: logistic turn models and thresholds fitted (scripts/fit-detectors.mjs) on the conversations of confidence medium or high in shared/eval/backrooms-dev-labels.json and eval/backrooms-extra-labels.json (samhains/UniversalBackrooms, var/backrooms_logs), with the written evaluation set of bench/eval as negatives.';
writeFileSync(out, JSON.stringify({ version: 1, description, fittedOn: calibration.fittedOn, attractors: calibration.attractors }, null, 2) + '\n');
process.stdout.write(`wrote ${out}: ${Object.keys(calibration.attractors).join(', ')} from ${runs.length} shared + ${extraRuns.length} extra labelled real conversations and ${written.length} written ones as negatives${skipped.length ? `; skipped ${skipped.map((s) => s.attractor).join(', ')}` : ''}\n`);
