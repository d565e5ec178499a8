import type { JudgementFacts } from '../analysis/eval/judge-reading.js';
import type { ArenaEvent, RunStarted, RunStatus } from '../runlog/events.js';
import { ChosenWords, countChosenWords, countEmoji, countWords } from './tokens.js';

/** What mining needs to know about one run, folded from its events in one pass. */
export interface RunSummary {
  file: string;
  runId: string;
  started: RunStarted | undefined;
  /** The last run.finished (a resumed run may have finished more than once); undefined while unfinished. */
  finished: { status: RunStatus; stopReason: string; turns: number } | undefined;
  /** Completed turns. */
  turns: number;
  /** Highest completed turn number: where a run that never entered an attractor is censored. */
  lastTurn: number;
  /** Turns that failed for good (turn.failed with willRetry false). */
  failedTurns: number;
  /** Every failed attempt, retried or not. */
  failedAttempts: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  /** Attractor name → first turn it was entered. */
  onsets: Map<string, number>;
  /**
   * The log holds attractor analysis (analysis.turn or attractor events). A run without it, such as a
   * freshly imported transcript, says nothing about attractors and stays out of incidence denominators.
   */
  analysed: boolean;
  /** Attractors the analysis scored (the keys of analysis.turn `scores`), entered or not. */
  attractorNames: string[];
  /** The log's `judgement` events, in order, as much of them as says what the judge found (see readJudgements). */
  judgements: JudgementFacts[];
  /** Per-turn attractor scores from analysis.turn events (only when asked for). */
  scores: Map<number, Record<string, number>>;
  /** Per-turn value of one numeric analysis feature (only when asked for). */
  feature: Map<number, number>;
  words: Map<string, number>;
  emoji: Map<string, number>;
  /** Lines of the log that were not read, described for stderr. */
  problems: string[];
}

/** Which of the costly parts of a summary to collect. */
export interface SummaryOptions {
  /** 'all' counts every word, a list counts only those words (in compared form), undefined counts none. */
  words?: 'all' | readonly string[];
  emoji?: boolean;
  scores?: boolean;
  /** Name of a numeric analysis.turn feature to keep per turn (e.g. 'drift'). */
  feature?: string;
}

export function emptySummary(file: string): RunSummary {
  return {
    file,
    runId: '',
    started: undefined,
    finished: undefined,
    turns: 0,
    lastTurn: 0,
    failedTurns: 0,
    failedAttempts: 0,
    inputTokens: 0,
    outputTokens: 0,
    costUsd: 0,
    onsets: new Map(),
    analysed: false,
    attractorNames: [],
    judgements: [],
    scores: new Map(),
    feature: new Map(),
    words: new Map(),
    emoji: new Map(),
    problems: [],
  };
}

const prepared = new WeakMap<readonly string[], ChosenWords>();
/** The scanner's form of a word list, built once per list (options objects are reused across runs). */
function chosenFor(words: readonly string[]): ChosenWords {
  let c = prepared.get(words);
  if (!c) prepared.set(words, (c = new ChosenWords(words)));
  return c;
}

/** Fold one event into a summary. Deltas are ignored: the completed turn holds the same text. */
export function addEvent(s: RunSummary, e: ArenaEvent, options: SummaryOptions): void {
  if (!s.runId) s.runId = e.runId;
  switch (e.type) {
    case 'run.started':
      s.started ??= e;
      break;
    case 'turn.completed':
      s.turns++;
      if (e.turn > s.lastTurn) s.lastTurn = e.turn;
      s.inputTokens += e.usage.inputTokens;
      s.outputTokens += e.usage.outputTokens;
      s.costUsd += e.costUsd;
      if (options.words === 'all') countWords(e.text, s.words);
      else if (options.words) countChosenWords(e.text, chosenFor(options.words), s.words);
      if (options.emoji) countEmoji(e.text, s.emoji);
      break;
    case 'turn.failed':
      s.failedAttempts++;
      if (!e.willRetry) s.failedTurns++;
      break;
    case 'attractor.entered': {
      s.analysed = true;
      const prev = s.onsets.get(e.attractor);
      if (prev === undefined || e.turn < prev) s.onsets.set(e.attractor, e.turn);
      break;
    }
    case 'analysis.turn':
      s.analysed = true;
      for (const name of Object.keys(e.scores)) if (!s.attractorNames.includes(name)) s.attractorNames.push(name);
      if (options.scores) s.scores.set(e.turn, e.scores);
      if (options.feature !== undefined) {
        const v = e.features[options.feature];
        if (typeof v === 'number' && Number.isFinite(v)) s.feature.set(e.turn, v);
      }
      break;
    case 'judgement':
      s.judgements.push({ judge: e.judge, window: e.window, ...(e.verdicts ? { verdicts: e.verdicts } : {}), ...(e.failure ? { failure: e.failure } : {}) });
      break;
    case 'run.finished':
      s.finished = { status: e.status, stopReason: e.stopReason, turns: e.turns };
      break;
    default:
      // Other events (deltas, interventions, extension types added later) carry nothing mining counts.
      break;
  }
}

/** The last turn the run was observed for: the censoring time of a run that never entered. */
export function observedTurns(s: RunSummary): number {
  return Math.max(s.lastTurn, s.finished?.turns ?? 0);
}
