import { describeGrouping, groupOf, isBatchRun, type Grouping, type GroupingUsed } from './group-key.js';
import { observedTurns, type RunSummary } from './run-summary.js';
import { differingFactors, planComparisons, type ComparedGroup, type PairTest } from './stats/comparisons.js';
import { holm } from './stats/holm.js';
import { kaplanMeier, medianOnset, type SurvivalObservation, type SurvivalPoint } from './stats/kaplan-meier.js';
import { logRank } from './stats/log-rank.js';
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
  /** The factor values that make this group (see StatsResult.grouping). */
  factors: Record<string, string>;
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
  /** Kaplan–Meier share not yet in each attractor, per turn, with its pointwise 95% band (Greenwood, log–log). */
  survival: Record<string, SurvivalPoint[]>;
  /** Kaplan–Meier median onset turn with its 95% interval (Brookmeyer–Crowley); null = not reached. */
  medianOnset: Record<string, { median: number | null; lower: number | null; upper: number | null }>;
  /** `status/stopReason` → runs; unfinished runs count as `unfinished`. */
  endStates: Record<string, number>;
  failedTurns: number;
  failedAttempts: number;
  tokens: { input: number; output: number };
  costUsd: number;
  words: WordRow[];
  emoji: EmojiRow[];
}

/** Fisher's exact test of one attractor's incidence between two groups, with its Holm-adjusted p. */
export type Comparison = PairTest;

/** Which pairs of groups were compared, and which tables were left out and why. */
export interface ComparisonPlanFacts {
  /** 'one-factor': only groups that differ in exactly one factor (the default); 'all': every pair. */
  pairs: 'one-factor' | 'all';
  /** Pairs of groups not compared because they differ in more than one factor. */
  pairsOffFactor: number;
  /** 2×2 tables left out: no run entered in either group, or every run did in both (no test can tell them apart). */
  uninformative: number;
  /** Set when no comparison was made at all, saying why (too many groups for every pair). */
  leftOut?: string;
}

/** The log-rank test of one attractor between groups. */
export interface LogRankFacts {
  chiSquare: number;
  df: number;
  p: number;
  groups: { key: string; observed: number; expected: number; n: number }[];
}

/** The log-rank test of one attractor between two groups (as comparisonPlan.pairs says), Holm-adjusted over all such tests. */
export interface LogRankPair {
  attractor: string;
  a: string;
  b: string;
  /** The factor the two groups differ in; absent when they differ in several (`--compare all`). */
  factor?: string;
  chiSquare: number;
  p: number;
  pHolm: number;
}

export interface StatsResult {
  /** Whose verdicts every attractor figure counts: the detectors' analysis in the logs, or one judge's. */
  source: ChosenSource['kind'];
  /** With source judge: which judge. */
  judge?: { backend: string; model: string };
  /** How runs were grouped (printed above every table). */
  grouping: GroupingUsed;
  groups: GroupStats[];
  attractors: string[];
  /** Fisher's exact tests of incidence between groups (see comparisonPlan), Holm-adjusted over the family. */
  comparisons: Comparison[];
  comparisonPlan: ComparisonPlanFacts;
  /**
   * Per attractor: the log-rank test that every group shares one survival curve; null when undefined (fewer than
   * two groups with runs, or no entry anywhere) or left out (more than MAX_LOG_RANK_GROUPS groups).
   */
  logRank: Record<string, LogRankFacts | null>;
  /** Per attractor, between the pairs of groups comparisonPlan says (where a test is defined; none when comparisonPlan.leftOut). */
  logRankPairs: LogRankPair[];
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
  factors: Record<string, string>;
  /** Grouped by its batch cell (default grouping). */
  batch: boolean;
  runs: RunSummary[];
  words: Map<string, Tally>;
  emoji: Map<string, Tally>;
}

function groupStats(
  key: string,
  acc: GroupAcc,
  attractors: readonly string[],
  table: TableOptions,
  verdicts: ReadonlyMap<RunSummary, RunVerdicts>,
  source: ChosenSource,
): { stats: GroupStats; observations: Record<string, SurvivalObservation[]> } {
  const runs = acc.runs;
  // A run the source never looked at did not "never enter": it is no evidence either way.
  const analysed = runs.filter((s) => verdicts.get(s)!.seen);
  const incidence: Record<string, Incidence> = {};
  const onset: GroupStats['onset'] = {};
  const survival: GroupStats['survival'] = {};
  const median: GroupStats['medianOnset'] = {};
  const observations: Record<string, SurvivalObservation[]> = {};
  for (const a of attractors) {
    const counted = analysed.flatMap((s) => {
      const v = verdicts.get(s)!.verdict(a);
      return v ? [{ s, v }] : [];
    });
    const onsets = counted.flatMap(({ v }) => (v.entered ? [v.onset] : []));
    incidence[a] = { count: onsets.length, rate: counted.length > 0 ? onsets.length / counted.length : 0, ci95: wilson(onsets.length, counted.length) };
    if (source.kind === 'judge') Object.assign(incidence[a], { n: counted.length, leftOut: runs.length - counted.length });
    onset[a] = summarize(onsets);
    observations[a] = counted.map(({ s, v }) => (v.entered ? { time: v.onset, event: true } : { time: observedTurns(s), event: false }));
    survival[a] = kaplanMeier(observations[a]);
    median[a] = medianOnset(survival[a]);
  }
  const endStates: Record<string, number> = {};
  for (const s of runs) {
    const k = s.finished ? `${s.finished.status}/${s.finished.stopReason}` : 'unfinished';
    endStates[k] = (endStates[k] ?? 0) + 1;
  }
  const sum = (f: (s: RunSummary) => number) => runs.reduce((acc, s) => acc + f(s), 0);
  const top = table.top ?? 0;
  const wantWords = (table.words?.length ?? 0) > 0 || top > 0;
  const stats: GroupStats = {
    key,
    factors: acc.factors,
    runs: runs.length,
    analysed: analysed.length,
    unanalysed: runs.length - analysed.length,
    turns: sum((s) => s.turns),
    incidence,
    onset,
    survival,
    medianOnset: median,
    endStates,
    failedTurns: sum((s) => s.failedTurns),
    failedAttempts: sum((s) => s.failedAttempts),
    tokens: { input: sum((s) => s.inputTokens), output: sum((s) => s.outputTokens) },
    costUsd: sum((s) => s.costUsd),
    words: wantWords ? tableRows(acc.words, runs.length, table.words ?? [], top, table.exclude).map(({ item, ...r }) => ({ word: item, ...r })) : [],
    emoji: table.emoji ? tableRows(acc.emoji, runs.length, [], top > 0 ? top : 10).map(({ item, ...r }) => ({ emoji: item, ...r })) : [],
  };
  return { stats, observations };
}

/** Above this many groups, `--compare all` is left out: thousands of p-values help nobody. */
export const MAX_COMPARED_GROUPS = 20;
/** Above this many pairs of groups differing in one factor (e.g. `--by runId`), pairwise tests are left out. */
export const MAX_COMPARED_PAIRS = 5000;
/** Above this many groups, the log-rank test between all groups is left out (its covariance matrix grows as groups²). */
export const MAX_LOG_RANK_GROUPS = 200;

const asCompared = (g: GroupStats): ComparedGroup => ({ key: g.key, factors: g.factors, analysed: g.analysed, entered: {} });

/** Why pairwise tests are left out for these groups, or undefined when they are made. */
function pairsLeftOut(groups: readonly GroupStats[], pairs: 'one-factor' | 'all'): string | undefined {
  if (pairs === 'all') {
    return groups.length > MAX_COMPARED_GROUPS ? `${groups.length} groups: every pair would be ${(groups.length * (groups.length - 1)) / 2} pairs per attractor (at most ${MAX_COMPARED_GROUPS} groups with --compare all)` : undefined;
  }
  let n = 0;
  for (let i = 0; i < groups.length; i++) for (let j = i + 1; j < groups.length; j++) if (differingFactors(asCompared(groups[i]!), asCompared(groups[j]!)).length === 1) n++;
  return n > MAX_COMPARED_PAIRS ? `${n} pairs of groups differ in one factor (at most ${MAX_COMPARED_PAIRS}); group more coarsely with --by` : undefined;
}

/**
 * Fisher's exact tests per attractor between the pairs asked for, each over the runs that count for that
 * attractor (with source judge, the runs with a verdict), Holm-adjusted over the whole family.
 */
function compareGroups(groups: readonly GroupStats[], attractors: readonly string[], pairs: 'one-factor' | 'all', leftOut: string | undefined): { tests: PairTest[]; plan: ComparisonPlanFacts } {
  if (leftOut) return { tests: [], plan: { pairs, pairsOffFactor: 0, uninformative: 0, leftOut } };
  const compared = (a: string | undefined): ComparedGroup[] =>
    groups.map((g) => ({
      key: g.key,
      factors: g.factors,
      analysed: a === undefined ? g.analysed : (g.incidence[a]!.n ?? g.analysed),
      entered: a === undefined ? {} : { [a]: g.incidence[a]!.count },
    }));
  const { pairsOffFactor } = planComparisons(compared(undefined), [], pairs);
  let uninformative = 0;
  const tests: PairTest[] = [];
  for (const a of attractors) {
    const plan = planComparisons(compared(a), [a], pairs);
    uninformative += plan.uninformative;
    tests.push(...plan.tests);
  }
  const adjusted = holm(tests.map((t) => t.p));
  return { tests: tests.map((t, i) => ({ ...t, pHolm: adjusted[i]! })), plan: { pairs, pairsOffFactor, uninformative } };
}

/**
 * Log-rank tests per attractor: between every group, and between the pairs asked for (those that differ in
 * one factor, or every pair), Holm-adjusted over those pairwise tests.
 */
function survivalTests(
  groups: readonly GroupStats[],
  observations: readonly Record<string, SurvivalObservation[]>[],
  attractors: readonly string[],
  pairsAsked: 'one-factor' | 'all',
  pairwise: boolean,
): { logRank: StatsResult['logRank']; pairs: LogRankPair[] } {
  const all: StatsResult['logRank'] = {};
  const pairs: Omit<LogRankPair, 'pHolm'>[] = [];
  for (const a of attractors) {
    const r = groups.length <= MAX_LOG_RANK_GROUPS ? logRank(observations.map((o) => o[a] ?? [])) : null;
    all[a] = r && { chiSquare: r.chiSquare, df: r.df, p: r.p, groups: r.groups.map((x, i) => ({ key: groups[i]!.key, ...x })) };
    for (let i = 0; pairwise && i < groups.length; i++) {
      for (let j = i + 1; j < groups.length; j++) {
        const diff = differingFactors(asCompared(groups[i]!), asCompared(groups[j]!));
        if (pairsAsked === 'one-factor' && diff.length !== 1) continue;
        const two = logRank([observations[i]![a] ?? [], observations[j]![a] ?? []]);
        if (two) pairs.push({ attractor: a, a: groups[i]!.key, b: groups[j]!.key, ...(diff.length === 1 ? { factor: diff[0]! } : {}), chiSquare: two.chiSquare, p: two.p });
      }
    }
  }
  const adjusted = holm(pairs.map((t) => t.p));
  return { logRank: all, pairs: pairs.map((t, i) => ({ ...t, pHolm: adjusted[i]! })) };
}

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
    private readonly compare: 'one-factor' | 'all' = 'one-factor',
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
    const { key: k, factors } = groupOf(s, this.grouping);
    let acc = this.groups.get(k);
    if (!acc) this.groups.set(k, (acc = { factors, batch: this.grouping.kind === 'default' && isBatchRun(s), runs: [], words: new Map(), emoji: new Map() }));
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
    const computed = keys.map((k) => groupStats(k, this.groups.get(k)!, attractors, this.table, verdicts, source));
    const groups = computed.map((c) => c.stats);
    const leftOut = pairsLeftOut(groups, this.compare);
    const { tests, plan } = compareGroups(groups, attractors, this.compare, leftOut);
    const survival = survivalTests(groups, computed.map((c) => c.observations), attractors, this.compare, leftOut === undefined);
    return {
      source: source.kind,
      ...(source.kind === 'judge' ? { judge: source.judge } : {}),
      grouping: describeGrouping(this.grouping, keys.map((k) => this.groups.get(k)!)),
      groups,
      attractors,
      comparisons: tests,
      comparisonPlan: plan,
      logRank: survival.logRank,
      logRankPairs: survival.pairs,
      skipped: this.noStart,
    };
  }
}

/** Group run summaries and compute every statistic (see StatsCollector; the summaries' word and emoji maps are emptied). */
export function computeStats(
  summaries: readonly RunSummary[],
  grouping: Grouping,
  table: TableOptions = {},
  source: VerdictSource = { kind: 'detector' },
  compare: 'one-factor' | 'all' = 'one-factor',
): StatsResult {
  const c = new StatsCollector(grouping, table, source, compare);
  for (const s of summaries) c.add(s);
  return c.result();
}
