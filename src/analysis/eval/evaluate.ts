import { dirname } from 'node:path';
import type { ArenaEvent } from '../../runlog/events.js';
import { describeProblems, readRunLog } from '../../runlog/reader.js';
import type { AttractorDefinition } from '../attractor.js';
import { detect, detectionInJudgements, detectionInLog } from './detect.js';
import type { JudgeChoice } from './judge-reading.js';
import { SHARED_KEYS, type Confidence, type LabelSet } from './labels.js';
import { identify, LabelMatcher, type Unmatched } from './match.js';
import { confusion, scoreAttractor, type AttractorScore, type Confusion, type ScoredRun } from './metrics.js';
import { summarizeRun, type RunOutcome } from './outcome.js';

export const DETECTION_SOURCES = ['detector', 'log', 'judge'] as const;
export type DetectionSource = (typeof DETECTION_SOURCES)[number];

export interface EvaluateOptions {
  labels: LabelSet;
  minConfidence: Confidence;
  source: DetectionSource;
  /** The detectors for one run, chosen as `arena analyze` chooses them (used with source `detector`). */
  detectorsFor: (events: readonly ArenaEvent[]) => Promise<readonly AttractorDefinition[]>;
  /** With source `judge`: whose judgements count (needed when a log holds more than one judge's). */
  judge?: JudgeChoice;
  /** Score only these attractors (default: every attractor the matched labels name). */
  attractors?: readonly string[];
  /** Folders a run-folder reference in the labels may be relative to (the working folder, the labels file's). */
  bases: readonly string[];
  /** Told about unreadable log lines and labels that do not fit their run, one line each. */
  onWarning?: (line: string) => void;
}

/** What `arena eval --json` prints. */
export interface EvalReport {
  labels: string;
  format: LabelSet['format'];
  source: DetectionSource;
  minConfidence: Confidence;
  /** Run logs found. */
  runs: number;
  /** Label records paired with a run. */
  matched: number;
  unmatched: Unmatched[];
  /** Label records (or JSONL lines) below --min-confidence. */
  belowConfidence: number;
  /** Runs found that no matched label names; not scored. */
  unlabelledRuns: number;
  attractors: AttractorScore[];
  /** Labelled attractors no matched run's analysis looked for. */
  notScored: { attractor: string; reason: string }[];
  confusion: Confusion;
}

/** Attractors in the order of the shared labels, then any others by name. */
function ordered(names: Iterable<string>): string[] {
  const known = SHARED_KEYS.map((k) => k.attractor);
  const place = (a: string) => (known.includes(a) ? known.indexOf(a) : known.length);
  return [...new Set(names)].sort((a, b) => place(a) - place(b) || (a < b ? -1 : a > b ? 1 : 0));
}

/** Score the detections in (or recomputed for) the given run logs against the labels. */
export async function evaluate(files: readonly string[], options: EvaluateOptions): Promise<EvalReport> {
  const { labels } = options;
  const warn = options.onWarning ?? (() => {});
  const matcher = new LabelMatcher(labels.records, options.bases);
  const outcomes = new Map<string, RunOutcome>();
  for (const file of files) {
    const log = await readRunLog(file);
    for (const line of describeProblems(log)) warn(line);
    const run = identify(log.events, file, dirname(file));
    if (!matcher.offer(run)) continue;
    const detection =
      options.source === 'log'
        ? detectionInLog(log.events)
        : options.source === 'judge'
          ? detectionInJudgements(log.events, file, options.judge)
          : await detect(log.events, { detectors: await options.detectorsFor(log.events) });
    outcomes.set(file, summarizeRun(run.runId, log.events, detection));
  }
  const { pairs, unmatched } = matcher.result();
  const runs: ScoredRun[] = pairs.map((p) => ({ record: p.record, outcome: outcomes.get(p.file)! }));

  for (const { record, outcome } of runs) {
    if (record.turns !== undefined && record.turns !== outcome.turns) {
      warn(`${labels.file}: ${record.where} (${record.ref}) counts ${record.turns} turns, its run ${outcome.runId} has ${outcome.turns}: its onsets may be off`);
    }
  }
  if (options.source === 'log') {
    const bare = runs.filter((r) => r.outcome.scored.size === 0).length;
    if (bare > 0) warn(`${bare} of ${runs.length} labelled runs hold no analysis in their log (not scored); run \`arena analyze --write\` on them first, or use --source detector`);
  }
  if (options.source === 'judge') {
    const bare = runs.filter((r) => r.outcome.scored.size === 0).length;
    if (bare > 0) warn(`${bare} of ${runs.length} labelled runs hold no judgement that covers every turn and did not fail (not scored); run \`arena judge\` on them first`);
  }

  const labelled = ordered(runs.flatMap((r) => [...r.record.labels.keys()]));
  const wanted = options.attractors ? ordered(options.attractors) : labelled;
  const attractors: AttractorScore[] = [];
  const notScored: EvalReport['notScored'] = [];
  for (const a of wanted) {
    const score = scoreAttractor(a, runs);
    if (score.n > 0) attractors.push(score);
    else if (!labelled.includes(a)) notScored.push({ attractor: a, reason: 'no matched label names it' });
    else
      notScored.push({
        attractor: a,
        reason: options.source === 'log' ? 'no labelled run holds analysis of it' : options.source === 'judge' ? 'no labelled run holds a judgement of it' : 'not among the detectors',
      });
  }
  return {
    labels: labels.file,
    format: labels.format,
    source: options.source,
    minConfidence: options.minConfidence,
    runs: files.length,
    matched: runs.length,
    unmatched,
    belowConfidence: labels.belowConfidence,
    unlabelledRuns: files.length - runs.length,
    attractors,
    notScored,
    confusion: confusion(runs, attractors.map((s) => s.attractor)),
  };
}
