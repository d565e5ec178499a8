// Labelled conversations for fitting and cross-validating the calibrated detectors: the project's own
// written evaluation set (always at hand) and the real backrooms corpus (when ARENA_BACKROOMS_DIR names it).
// Transcript text is read from where it was fetched, never copied into this repository.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UNCALIBRATED_ATTRACTORS } from '../../dist/analysis/builtin.js';
import { DETECTOR_SPECS } from '../../dist/analysis/detector-specs.js';
import { loadLabels } from '../../dist/analysis/eval/labels.js';
import { labelledRun, labelledRuns } from '../../dist/analysis/fit-runs.js';
import { importPaths } from '../../dist/mining/import/import-files.js';
import { findRunLogs } from '../../dist/runlog/layout.js';
import { evaluationSet } from './load.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The written evaluation set as labelled runs: an attractor it does not list is labelled absent. */
export function selfWrittenRuns(defs = UNCALIBRATED_ATTRACTORS) {
  const names = Object.keys(DETECTOR_SPECS);
  return evaluationSet().map((c) => {
    const labels = new Map(names.map((a) => [a, { present: a in c.labels, onsetTurn: c.labels[a] ?? null }]));
    return labelledRun(`self-written:${c.id}`, `self-written:${c.group}:${c.id}`, c.turns, labels, defs);
  });
}

/**
 * Where the real corpus and its labels are: ARENA_BACKROOMS_DIR (the `var/backrooms_logs` folder of
 * samhains/UniversalBackrooms at the labels' commit) and ARENA_EVAL_LABELS (default ../shared/eval/backrooms-dev-labels.json
 * beside the repository). Undefined, with the reason, when the corpus is not there.
 */
export function realCorpus(env = process.env) {
  const dir = env.ARENA_BACKROOMS_DIR;
  const labels = env.ARENA_EVAL_LABELS ?? join(root, '../shared/eval/backrooms-dev-labels.json');
  if (!dir) return { missing: 'ARENA_BACKROOMS_DIR is not set (the var/backrooms_logs folder of samhains/UniversalBackrooms; see the README)' };
  if (!existsSync(dir)) return { missing: `ARENA_BACKROOMS_DIR=${dir}: no such folder` };
  if (!existsSync(labels)) return { missing: `labels file ${labels} not found (set ARENA_EVAL_LABELS)` };
  return { dir, labels, extra: join(root, 'eval/backrooms-extra-labels.json') };
}

/**
 * Import the corpus into a temporary runs folder and pair its runs with the labels (confidence medium and up
 * by default): `runs` for the shared labels, `extraRuns` for this project's own (eval/backrooms-extra-labels.json).
 */
export async function realRuns(corpus, minConfidence = 'medium', defs = UNCALIBRATED_ATTRACTORS) {
  const runsDir = mkdtempSync(join(tmpdir(), 'arena-real-'));
  await importPaths('backrooms', [corpus.dir], runsDir);
  const files = await findRunLogs([runsDir]);
  const labels = await loadLabels(corpus.labels, minConfidence);
  const { runs, unmatched } = await labelledRuns(files, labels, defs, [root]);
  const extra = await labelledRuns(files, await loadLabels(corpus.extra, minConfidence), defs, [root]);
  rmSync(runsDir, { recursive: true, force: true });
  return { runs, unmatched: [...unmatched, ...extra.unmatched], extraRuns: extra.runs };
}

/**
 * The same runs labelled only where the attractor is absent: the written set joins a fit as negatives only.
 * Its positives (short echoed lines, dense scripted vocabulary) are the hand-set signal's route, which the
 * calibrated model stands beside; its negatives are conversations the model must not flag.
 */
export function negativesOf(runs) {
  return runs.map((r) => ({ ...r, labels: new Map([...r.labels].filter(([, l]) => !l.present)) }));
}
