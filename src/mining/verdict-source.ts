import { judgeKey, readJudgements, type JudgeChoice } from '../analysis/eval/judge-reading.js';
import { InputError } from '../errors.js';
import type { RunSummary } from './run-summary.js';

/** Whose verdicts the statistics count, as asked for (`--source`, `--judge`). */
export type VerdictSource = { kind: 'detector' } | { kind: 'judge'; judge?: JudgeChoice };

/** Whose verdicts the statistics counted, once the judge is known. */
export type ChosenSource = { kind: 'detector' } | { kind: 'judge'; judge: JudgeChoice };

/** One run's verdict on one attractor: entered at a turn, not entered, or none (the run is left out). */
export type RunVerdict = { entered: true; onset: number } | { entered: false } | undefined;

/** What one source says about one run. */
export interface RunVerdicts {
  /** The source looked at the run at all (the detectors' analysis is in the log; the judge judged it). */
  seen: boolean;
  /** Attractors the source names for this run, entered or not. */
  attractors: readonly string[];
  verdict(attractor: string): RunVerdict;
}

/**
 * The detectors' verdicts as the log holds them: a run whose log holds analysis counts for every attractor
 * (entered at its first `attractor.entered`, else not entered); a run without analysis for none.
 */
export function detectorVerdicts(s: RunSummary): RunVerdicts {
  return {
    seen: s.analysed,
    attractors: [...new Set([...s.onsets.keys(), ...s.attractorNames])],
    verdict: (a) => (!s.analysed ? undefined : s.onsets.has(a) ? { entered: true, onset: s.onsets.get(a)! } : { entered: false }),
  };
}

/**
 * Whether the detectors looked for this attractor in this run: its analysis scored it or entered it. Stricter
 * than detectorVerdicts, for agreement, where a run whose detectors never looked for an attractor is no evidence.
 */
export function detectorScored(s: RunSummary, attractor: string): boolean {
  return s.onsets.has(attractor) || s.attractorNames.includes(attractor);
}

/** A judge's verdicts, read as `arena eval --source judge` reads them (see readJudgements); onset is the judge's onsetTurn. */
export function judgeVerdicts(s: RunSummary, judge: JudgeChoice): RunVerdicts {
  const reading = readJudgements(s.judgements, s.lastTurn).get(judgeKey(judge));
  if (!reading) return { seen: false, attractors: [], verdict: () => undefined };
  return {
    seen: true,
    attractors: [...new Set([...reading.found.keys(), ...reading.named])],
    verdict: (a) => {
      const found = reading.found.get(a);
      if (found) return { entered: true, onset: found.onsetTurn };
      return reading.scored.has(a) ? { entered: false } : undefined;
    },
  };
}

export function verdictsOf(s: RunSummary, source: ChosenSource): RunVerdicts {
  return source.kind === 'detector' ? detectorVerdicts(s) : judgeVerdicts(s, source.judge);
}

/** Every judge (backend:model) with a judgement in these runs, sorted. */
export function judgesIn(runs: Iterable<RunSummary>): JudgeChoice[] {
  const found = new Map<string, JudgeChoice>();
  for (const s of runs) for (const j of s.judgements) found.set(judgeKey(j.judge), { backend: j.judge.backend, model: j.judge.model });
  return [...found].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([, j]) => j);
}

/**
 * The judge whose verdicts count: the one asked for, or the only one these runs hold. Bad input (exit 2) when
 * none of the runs holds a judgement (by it), or when several judges did and none was chosen.
 */
export function chooseJudge(runs: Iterable<RunSummary>, wanted: JudgeChoice | undefined): JudgeChoice {
  const judges = judgesIn(runs);
  const names = judges.map(judgeKey);
  if (wanted) {
    if (names.includes(judgeKey(wanted))) return wanted;
    throw new InputError(
      names.length === 0
        ? `--judge ${judgeKey(wanted)}: no run holds a judgement; run \`arena judge --judge ${judgeKey(wanted)}\` on them first`
        : `--judge ${judgeKey(wanted)}: no run holds a judgement by it (judges in these runs: ${names.join(', ')})`,
    );
  }
  if (judges.length === 0) throw new InputError('no run holds a judgement; run `arena judge <runs> --judge BACKEND:MODEL` on them first');
  if (judges.length > 1) throw new InputError(`these runs hold judgements by ${names.join(', ')}; choose one with --judge BACKEND:MODEL`);
  return judges[0]!;
}

export function chooseSource(runs: Iterable<RunSummary>, source: VerdictSource): ChosenSource {
  return source.kind === 'detector' ? source : { kind: 'judge', judge: chooseJudge(runs, source.judge) };
}

/** How a source is named in tables: "the detectors' analysis in the logs" or "the judge openai:gpt-4o-mini". */
export function describeSource(source: ChosenSource): string {
  return source.kind === 'detector' ? "the detectors' analysis in the logs" : `the judge ${judgeKey(source.judge)} (its judgement events)`;
}
