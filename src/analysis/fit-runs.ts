import { dirname } from 'node:path';
import { describeProblems, readRunLog } from '../runlog/reader.js';
import { ConversationAnalyzer } from './analyzer.js';
import type { AttractorDefinition, Thresholds } from './attractor.js';
import type { Calibration } from './calibration.js';
import { crossValidate, groupedFolds } from './cross-validate.js';
import type { FeatureRow } from './detector-model.js';
import { DETECTOR_SPECS, type DetectorSpec } from './detector-specs.js';
import { identify, LabelMatcher, type Unmatched } from './eval/match.js';
import type { LabelSet } from './eval/labels.js';
import { fitDetector, type LabelledConversation } from './fit.js';
import { wilson } from '../stats/wilson.js';
import type { TurnInput } from './text-features.js';

/** A labelled run's turns as feature rows, with its labels per attractor. */
export interface LabelledRun {
  runId: string;
  group: string;
  rows: FeatureRow[];
  speakers: string[];
  turns: number[];
  labels: Map<string, { present: boolean; onsetTurn: number | null }>;
  /** Per attractor: the hand-set (gated) signal of each turn and its thresholds. */
  signals: Map<string, { scores: number[]; thresholds: Thresholds }>;
  /** Each turn's repeatLag, and the attractors whose calibrated onsets are moved back by it (repetition signals). */
  lags: number[];
  backdated: ReadonlySet<string>;
}

/**
 * Read the labelled runs among `files` and compute every turn's feature row with `defs` (the rows do not
 * depend on any calibration). A run's group is its scenario and its agents' models: conversations of one
 * template and model pair are kept on one side of a cross-validation fold.
 */
export async function labelledRuns(files: readonly string[], labels: LabelSet, defs: readonly AttractorDefinition[], bases: readonly string[], onWarning: (line: string) => void = () => {}): Promise<{ runs: LabelledRun[]; unmatched: Unmatched[] }> {
  const matcher = new LabelMatcher(labels.records, bases);
  const logs = new Map<string, Awaited<ReturnType<typeof readRunLog>>>();
  for (const file of files) {
    const log = await readRunLog(file);
    for (const line of describeProblems(log)) onWarning(line);
    if (matcher.offer(identify(log.events, file, dirname(file)))) logs.set(file, log);
  }
  const { pairs, unmatched } = matcher.result();
  const runs: LabelledRun[] = [];
  for (const { record, file } of pairs) {
    const events = logs.get(file)!.events;
    const started = events.find((e) => e.type === 'run.started');
    const turns = events.flatMap((e) => (e.type === 'turn.completed' ? [{ turn: e.turn, agentId: e.agentId, text: e.text }] : []));
    runs.push(labelledRun(started?.runId ?? file, groupOf(started), turns, record.labels, defs));
  }
  return { runs, unmatched };
}

/** A labelled conversation from its turns (a run log's, or a written example's). */
export function labelledRun(runId: string, group: string, turns: readonly TurnInput[], labels: LabelledRun['labels'], defs: readonly AttractorDefinition[]): LabelledRun {
  const analyzer = new ConversationAnalyzer({ attractors: defs, fullRows: true });
  const signals = new Map(defs.map((d) => [d.name, { scores: [] as number[], thresholds: d.thresholds }]));
  const run: LabelledRun = { runId, group, rows: [], speakers: [], turns: [], labels, signals, lags: [], backdated: new Set(defs.filter((d) => d.signal === 'repetition').map((d) => d.name)) };
  for (const t of turns) {
    const result = analyzer.analyze(t);
    run.rows.push(result.row);
    run.speakers.push(t.agentId);
    run.turns.push(t.turn);
    const analysis = result.events.find((e) => e.type === 'analysis.turn');
    run.lags.push(analysis?.type === 'analysis.turn' && typeof analysis.features.repeatLag === 'number' ? analysis.features.repeatLag : 0);
    for (const d of defs) {
      const f = analysis?.type === 'analysis.turn' ? analysis : undefined;
      const gated = d.calibrated ? f?.features.signals?.[d.name] : f?.scores[d.name];
      signals.get(d.name)!.scores.push(gated ?? 0);
    }
  }
  return run;
}

function groupOf(started: { type: string; scenario?: unknown; agents?: unknown; source?: unknown } | undefined): string {
  if (!started || started.type !== 'run.started') return 'unknown';
  const e = started as { scenario: { name?: unknown }; agents: { model?: unknown }[]; source?: Record<string, unknown> };
  const template = typeof e.source?.template === 'string' ? e.source.template : typeof e.scenario.name === 'string' ? e.scenario.name : '';
  return `${template}|${e.agents.map((a) => String(a.model ?? '')).join('+')}`;
}

/** The conversations labelled for one attractor, in the shape the fit takes. */
export function conversationsFor(runs: readonly LabelledRun[], attractor: string): LabelledConversation[] {
  const out: LabelledConversation[] = [];
  for (const r of runs) {
    const label = r.labels.get(attractor);
    if (!label) continue;
    const signal = r.signals.get(attractor);
    out.push({
      id: r.runId,
      group: r.group,
      rows: r.rows,
      speakers: r.speakers,
      turns: r.turns,
      present: label.present,
      onset: label.onsetTurn,
      ...(signal ? { signal } : {}),
      ...(r.backdated.has(attractor) ? { lags: r.lags } : {}),
    });
  }
  return out;
}

/** Fit every attractor that has a spec and at least one labelled positive and negative conversation. */
export function fitCalibration(runs: readonly LabelledRun[], attractors: readonly string[], specs: Readonly<Record<string, DetectorSpec>> = DETECTOR_SPECS, fittedOn: Record<string, unknown> = {}): { calibration: Calibration; skipped: { attractor: string; reason: string }[] } {
  const calibration: Calibration = { version: 1, fittedOn, attractors: {} };
  const skipped: { attractor: string; reason: string }[] = [];
  for (const a of attractors) {
    const spec = specs[a];
    const convs = conversationsFor(runs, a);
    const positives = convs.filter((c) => c.present).length;
    if (!spec) skipped.push({ attractor: a, reason: 'no feature spec for this attractor (it keeps its hand-set signal)' });
    else if (positives === 0 || positives === convs.length) skipped.push({ attractor: a, reason: `needs labelled conversations with and without it (${positives} of ${convs.length} have it)` });
    else calibration.attractors[a] = fitDetector(convs, spec.features, { l2: spec.l2, ...(spec.signs ? { signs: spec.signs } : {}) });
  }
  return { calibration, skipped };
}

/** Cross-validated figures of one attractor's detector, as `arena detect fit --cv` and the bench report them. */
export interface CrossValidated {
  attractor: string;
  conversations: number;
  positives: number;
  tp: number;
  fp: number;
  fn: number;
  precision: number | null;
  recall: number | null;
  ci95: { precision: [number, number]; recall: [number, number] };
  onset: { n: number; within3: number | null };
  /** How folds were made: whole groups (scenario and models), or single conversations when there were fewer groups than folds. */
  grouping: 'group' | 'conversation';
}

/** `alwaysTrain`: runs of another set that join every fold's training and are never tested. */
export function crossValidateRuns(runs: readonly LabelledRun[], attractor: string, k: number, spec: DetectorSpec | undefined = DETECTOR_SPECS[attractor], alwaysTrain: readonly LabelledRun[] = []): CrossValidated | undefined {
  if (!spec) return undefined;
  const convs = conversationsFor(runs, attractor);
  if (convs.length === 0) return undefined;
  const outcomes = crossValidate(convs, spec.features, k, { l2: spec.l2, ...(spec.signs ? { signs: spec.signs } : {}) }, conversationsFor(alwaysTrain, attractor));
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let onsets = 0;
  let within = 0;
  for (const o of outcomes) {
    if (o.present && o.detected !== null) {
      tp++;
      if (o.labelledOnset !== null) {
        onsets++;
        if (Math.abs(o.detected - o.labelledOnset) <= 3) within++;
      }
    } else if (o.detected !== null) fp++;
    else if (o.present) fn++;
  }
  const r4 = (x: number) => Math.round(x * 1e4) / 1e4;
  const ci = (a: number, n: number): [number, number] => (n === 0 ? [0, 1] : (wilson(a, n).map(r4) as [number, number]));
  return {
    attractor,
    conversations: convs.length,
    positives: convs.filter((c) => c.present).length,
    tp,
    fp,
    fn,
    precision: tp + fp === 0 ? null : r4(tp / (tp + fp)),
    recall: tp + fn === 0 ? null : r4(tp / (tp + fn)),
    ci95: { precision: ci(tp, tp + fp), recall: ci(tp, tp + fn) },
    onset: { n: onsets, within3: onsets === 0 ? null : r4(within / onsets) },
    grouping: groupedFolds(convs, k) ? 'group' : 'conversation',
  };
}
