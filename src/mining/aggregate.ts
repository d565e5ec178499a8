import { groupKey, type Grouping } from './group-key.js';
import { observedTurns, type RunSummary } from './run-summary.js';
import { fisherExact } from './stats/fisher.js';
import { kaplanMeier, type SurvivalPoint } from './stats/kaplan-meier.js';
import { summarize } from './stats/quantile.js';
import { wilson } from '../stats/wilson.js';
import { chooseSource, verdictsOf, type ChosenSource, type RunVerdicts, type VerdictSource } from './verdict-source.js';
import { foldCounts, tableRows, type Tally } from './word-tally.js';

/** One row of a system-card word table. */
export interface WordRow {
  word: string;
  /** Uses over all transcripts of the group / transcripts. */
  meanPerRun: number;
  /** Transcripts using it at least once / transcripts. */
  shareOfRuns: number;
  /** Most uses in one transcript. */
  max: number;
}

export interface EmojiRow {
  emoji: string;
  meanPerRun: number;
  shareOfRuns: number;
  max: number;
}

/**
 * Share of a group's analysed runs that entered an attractor. With no analysed run `rate` is 0 and `ci95` is
 * [0, 1] (no information): the contract keeps `rate` a number; `analysed` on the group tells the two apart.
 */
export interface Incidence {
  count: number;
  rate: number;
  ci95: [number, number];
  /** With source judge: runs with the judge's verdict on this attractor (the denominator). */
  n?: number;
  /**
   * With source judge: runs of the group left out of this attractor because its judgement is missing, failed
   * or does not cover every turn (and no window found the attractor). Never counted as "not entered".
   */
  leftOut?: number;
}

/** The statistics of one group of runs (the `stats --json` contract plus extra keys). */
export interface GroupStats {
  key: string;
  /** Every run of the group (turns, tokens, end states and word tables cover them all). */
  runs: number;
  /**
   * Runs the verdict source looked at: with source detector, runs with attractor analysis (the denominator of
   * incidence, onsets and survival); with source judge, runs with a judgement by the chosen judge (each
   * attractor's denominator is then its incidence `n`).
   */
  analysed: number;
  /** Runs the source never looked at (e.g. imported and not yet analysed, or not judged); left out of incidence. */
  unanalysed: number;
  turns: number;
  incidence: Record<string, Incidence>;
  /** Onset turn among the runs that entered: median and quartiles (type 7). */
  onset: Record<string, { n: number; median: number | null; q1: number | null; q3: number | null }>;
  /** Kaplan–Meier share not yet in each attractor, per turn. */
  survival: Record<string, SurvivalPoint[]>;
  /** `status/stopReason` → runs; unfinished runs count as `unfinished`. */
  endStates: Record<string, number>;
  failedTurns: number;
  failedAttempts: number;
  tokens: { input: number; output: number };
  costUsd: number;
  words: WordRow[];
  emoji: EmojiRow[];
}

/** Fisher's exact test of one attractor's incidence between two groups. */
export interface Comparison {
  attractor: string;
  a: string;
  b: string;
  /** Entered / counted runs in each group (analysed runs; with source judge, runs with the judge's verdict). */
  countA: number;
  runsA: number;
  countB: number;
  runsB: number;
  p: number;
}

export interface StatsResult {
  /** Whose verdicts every attractor figure counts: the detectors' analysis in the logs, or one judge's. */
  source: ChosenSource['kind'];
  /** With source judge: which judge. */
  judge?: { backend: string; model: string };
  groups: GroupStats[];
  attractors: string[];
  comparisons: Comparison[];
  /** Files read that held no run.started event and so were not counted as runs. */
  skipped: number;
}

export interface TableOptions {
  /** Words always listed, in this order (already in compared form). */
  words?: readonly string[];
  /** Also list the K most used words / emoji of each group. */
  top?: number;
  emoji?: boolean;
  /** Words left out of the top-K ranking (e.g. stop words); listed words are never left out. */
  exclude?: ReadonlySet<string>;
}

/** A group being collected: its runs (without their word maps) and its word and emoji tallies. */
interface GroupAcc {
  runs: RunSummary[];
  words: Map<string, Tally>;
  emoji: Map<string, Tally>;
}

function groupStats(
  key: string,
  acc: GroupAcc,
  attractors: readonly string[],
  table: TableOptions,
  verdicts: ReadonlyMap<RunSummary, RunVerdicts>, source: ChosenSource): GroupStats {
  const runs = acc.runs;
  // A run the source never looked at did not "never enter": it is no evidence either way.
  const analysed = runs.filter((s) => verdicts.get(s)!.seen);
  const incidence: Record<string, Incidence> = {};
  const onset: GroupStats['onset'] = {};
  const survival: GroupStats['survival'] = {};
  for (const a of attractors) {
    const counted = analysed.flatMap((s) => {
      const v = verdicts.get(s)!.verdict(a);
      return v ? [{ s, v }] : [];
    });
    const onsets = counted.flatMap(({ v }) => (v.entered ? [v.onset] : []));
    incidence[a] = { count: onsets.length, rate: counted.length > 0 ? onsets.length / counted.length : 0, ci95: wilson(onsets.length, counted.length) };
    if (source.kind === 'judge') Object.assign(incidence[a], { n: counted.length, leftOut: runs.length - counted.length });
    onset[a] = summarize(onsets);
    survival[a] = kaplanMeier(counted.map(({ s, v }) => (v.entered ? { time: v.onset, event: true } : { time: observedTurns(s), event: false })));
  }
  const endStates: Record<string, number> = {};
  for (const s of runs) {
    const k = s.finished ? `${s.finished.status}/${s.finished.stopReason}` : 'unfinished';
    endStates[k] = (endStates[k] ?? 0) + 1;
  }
  const sum = (f: (s: RunSummary) => number) => runs.reduce((acc, s) => acc + f(s), 0);
  const top = table.top ?? 0;
  const wantWords = (table.words?.length ?? 0) > 0 || top > 0;
  return {
    key,
    runs: runs.length,
    analysed: analysed.length,
    unanalysed: runs.length - analysed.length,
    turns: sum((s) => s.turns),
    incidence,
    onset,
    survival,
    endStates,
    failedTurns: sum((s) => s.failedTurns),
    failedAttempts: sum((s) => s.failedAttempts),
    tokens: { input: sum((s) => s.inputTokens), output: sum((s) => s.outputTokens) },
    costUsd: sum((s) => s.costUsd),
    words: wantWords ? tableRows(acc.words, runs.length, table.words ?? [], top, table.exclude).map(({ item, ...r }) => ({ word: item, ...r })) : [],
    emoji: table.emoji ? tableRows(acc.emoji, runs.length, [], top > 0 ? top : 10).map(({ item, ...r }) => ({ emoji: item, ...r })) : [],
  };
}

/** Above this many groups, pairwise comparisons are left out: thousands of p-values help nobody. */
export const MAX_COMPARED_GROUPS = 20;

/**
 * Collects run summaries into groups as they arrive and computes every statistic at the end. Each run's
 * word and emoji counts are folded into its group's tallies and then dropped, so memory grows with the
 * vocabulary of a group, not with the number of runs times their vocabularies.
 */
export class StatsCollector {
  private readonly groups = new Map<string, GroupAcc>();
  private noStart = 0;

  constructor(
    private readonly grouping: Grouping,
    private readonly table: TableOptions = {},
    private readonly source: VerdictSource = { kind: 'detector' },
  ) {}

  /** Files read without a run.started event (not runs: they are left out of every group). */
  get skipped(): number {
    return this.noStart;
  }

  /** Add one run; false (and nothing counted) when its log has no run.started event. */
  add(s: RunSummary): boolean {
    if (!s.started) {
      this.noStart++;
      return false;
    }
    const k = groupKey(s, this.grouping);
    let acc = this.groups.get(k);
    if (!acc) this.groups.set(k, (acc = { runs: [], words: new Map(), emoji: new Map() }));
    acc.runs.push(s);
    foldCounts(acc.words, s.words);
    foldCounts(acc.emoji, s.emoji);
    s.words = new Map();
    s.emoji = new Map();
    return true;
  }

  /**
   * Every statistic per group, counting the source's verdicts. Attractors are the union over all runs of those
   * the source names (entered, scored by the analysis, or named in the judge's verdicts), so each group lists
   * the same attractors (zero where none entered) and groups can be compared. With source judge and no judge
   * chosen, fails (bad input) unless the runs hold exactly one judge's judgements.
   */
  result(): StatsResult {
    const all = [...this.groups.values()].flatMap((acc) => acc.runs);
    const source = chooseSource(all, this.source);
    const verdicts = new Map(all.map((s) => [s, verdictsOf(s, source)]));
    const attractors = [...new Set([...verdicts.values()].flatMap((v) => v.attractors))].sort();
    const keys = [...this.groups.keys()].sort();
    for (const acc of this.groups.values()) acc.runs.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
    const groups = keys.map((k) => groupStats(k, this.groups.get(k)!, attractors, this.table, verdicts, source));
    const head = { source: source.kind, ...(source.kind === 'judge' ? { judge: source.judge } : {}) };
    const comparisons: Comparison[] = [];
    if (groups.length > MAX_COMPARED_GROUPS) return { ...head, groups, attractors, comparisons, skipped: this.noStart };
    for (const attractor of attractors) {
      for (let i = 0; i < groups.length; i++) {
        for (let j = i + 1; j < groups.length; j++) {
          const g = groups[i]!;
          const h = groups[j]!;
          const m = g.incidence[attractor]!.n ?? g.analysed;
          const n = h.incidence[attractor]!.n ?? h.analysed;
          if (m === 0 || n === 0) continue;
          const x = g.incidence[attractor]!.count;
          const y = h.incidence[attractor]!.count;
          comparisons.push({ attractor, a: g.key, b: h.key, countA: x, runsA: m, countB: y, runsB: n, p: fisherExact(x, m - x, y, n - y) });
        }
      }
    }
    return { ...head, groups, attractors, comparisons, skipped: this.noStart };
  }
}

/** Group run summaries and compute every statistic (see StatsCollector; the summaries' word and emoji maps are emptied). */
export function computeStats(summaries: readonly RunSummary[], grouping: Grouping, table: TableOptions = {}, source: VerdictSource = { kind: 'detector' }): StatsResult {
  const c = new StatsCollector(grouping, table, source);
  for (const s of summaries) c.add(s);
  return c.result();
}
