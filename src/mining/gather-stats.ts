import { InputError } from '../errors.js';
import { StatsCollector, type StatsResult, type TableOptions } from './aggregate.js';
import { findLogsOrFail, noRunsMessage } from './find-logs.js';
import { FieldCheck, type Grouping } from './group-key.js';
import { loadRunFiles } from './load-runs.js';
import type { RunSummary, SummaryOptions } from './run-summary.js';
import { judgeVerdicts, type VerdictSource } from './verdict-source.js';

/** What `stats` and `report` ask for: where the runs are, how to group them, what to count. */
export interface GatherOptions {
  /** Absolute folders or files to search for events.jsonl. */
  paths: readonly string[];
  /** The same folders as typed, for messages. */
  labels: readonly string[];
  grouping: Grouping;
  summary: SummaryOptions;
  table: TableOptions;
  /** Whose verdicts count (default: the detectors' analysis in the logs). */
  source?: VerdictSource;
  /** Which pairs of groups the Fisher and pairwise log-rank tests compare (default: those differing in one factor). */
  compare?: 'one-factor' | 'all';
  /** One line of warning for stderr (without the "warning: " prefix). */
  warn: (line: string) => void;
}

/**
 * Read every run under the folders into grouped statistics, warning about every unreadable line and
 * every file that is not a run. Fails with one line (exit 2) when there is nothing to count or a
 * `--by` field exists in no run; warns when runs lack the analysis that incidence needs.
 */
export async function gatherStats(o: GatherOptions): Promise<{ result: StatsResult; runs: RunSummary[] }> {
  const files = await findLogsOrFail(o.paths, o.labels);
  const collector = new StatsCollector(o.grouping, o.table, o.source, o.compare);
  const fields = new FieldCheck(o.grouping);
  const runs: RunSummary[] = [];
  await loadRunFiles(files, o.summary, {
    onSummary: (s) => {
      for (const p of s.problems) o.warn(p);
      fields.observe(s);
      if (collector.add(s)) runs.push(s);
    },
  });
  if (runs.length === 0) throw new InputError(noRunsMessage(o.labels, files.length));
  const problem = fields.problem();
  if (problem) throw new InputError(problem);
  const result = collector.result();
  const unanalysed = result.groups.reduce((n, g) => n + g.unanalysed, 0);
  if (result.judge) {
    const judge = `${result.judge.backend}:${result.judge.model}`;
    if (unanalysed > 0) o.warn(`${unanalysed} run${unanalysed === 1 ? ' has' : 's have'} no judgement by ${judge}; run \`arena judge ${o.labels.join(' ')} --judge ${judge}\` first (left out of incidence)`);
    const partial = runs.filter((s) => {
      const v = judgeVerdicts(s, result.judge!);
      return v.seen && result.attractors.some((a) => v.verdict(a) === undefined);
    }).length;
    if (partial > 0) o.warn(`${partial} run${partial === 1 ? '' : 's'} judged by ${judge} with a failed window or turns no window covered: left out of the attractors no window found, never counted as absent`);
  } else if (unanalysed > 0) {
    o.warn(`${unanalysed} run${unanalysed === 1 ? ' has' : 's have'} no attractor analysis; run \`arena analyze --write ${o.labels.join(' ')}\` first (left out of incidence)`);
  }
  return { result, runs };
}
