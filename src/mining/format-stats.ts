import { MAX_LOG_RANK_GROUPS, type GroupStats, type StatsResult } from './aggregate.js';
import { columns } from '../text-width.js';

export type StatsFormat = 'table' | 'md' | 'csv' | 'json';

const pct = (x: number | null) => (x === null ? '–' : `${(x * 100).toFixed(1)}%`);
const num = (x: number | null, digits = 1) => (x === null ? '–' : Number.isInteger(x) ? String(x) : x.toFixed(digits));

/** Aligned columns for a terminal, or a Markdown table (cells escaped so transcript words cannot break it). */
export function grid(head: string[], body: string[][], md: boolean): string {
  if (md) {
    const cell = (s: string) => s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\n/g, ' ');
    return [head, head.map(() => '---'), ...body].map((r) => `| ${r.map(cell).join(' | ')} |`).join('\n');
  }
  return columns([head, ...body]).join('\n');
}

function onsetText(o: GroupStats['onset'][string] | undefined): string {
  if (!o || o.n === 0) return '–';
  return `${num(o.median)} (${num(o.q1)}–${num(o.q3)})`;
}

/** "12 [9, 15]", "12 [9, not reached]" or "not reached". */
export function medianOnsetText(m: GroupStats['medianOnset'][string] | undefined): string {
  if (!m || m.median === null) return 'not reached';
  const bound = (x: number | null) => (x === null ? 'not reached' : String(x));
  return `${m.median} [${bound(m.lower)}, ${bound(m.upper)}]`;
}

const pValue = (p: number) => (p < 0.0001 ? p.toExponential(2) : p.toFixed(4));
export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function groupBlock(g: GroupStats, r: StatsResult, md: boolean): string {
  const attractors = r.attractors;
  const judged = r.source === 'judge';
  const out: string[] = [];
  const unanalysed = g.unanalysed > 0 ? (judged ? ` (${g.unanalysed} without a judgement by ${judgeName(r)})` : ` (${g.unanalysed} without attractor analysis)`) : '';
  const facts = `runs ${g.runs}${unanalysed} · turns ${g.turns} · failed turns ${g.failedTurns} (${g.failedAttempts} failed attempts) · tokens ${g.tokens.input} in / ${g.tokens.output} out · cost $${g.costUsd.toFixed(4)}`;
  const ends = Object.entries(g.endStates).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
  out.push(md ? `## ${g.key.replace(/[\\`*_[\]<>#|]/g, '\\$&')}\n\n${facts}\n\nEnd states: ${ends}\n` : `== ${g.key} ==\n${facts}\nend states: ${ends}\n`);
  if (attractors.length > 0) {
    const counted = judged ? `the runs with a verdict by ${judgeName(r)} (per attractor, "entered" gives their number)` : `the ${plural(g.analysed, 'analysed run')}`;
    out.push(`Attractor incidence over ${counted} (Wilson 95% CI) · onset among the runs that entered · Kaplan–Meier median onset [95% CI] and share not yet in [95% band]${md ? '\n' : ''}`);
    const head = ['attractor', 'entered', 'rate', '95% CI (Wilson)', 'onset median (IQR)', 'median onset (KM) [95% CI]', 'not yet in (KM) [95% band]', ...(judged ? ['left out (no verdict)'] : [])];
    out.push(grid(head, attractors.map((a) => {
      const inc = g.incidence[a]!;
      const last = g.survival[a]?.at(-1);
      const notYet = last ? `${pct(last.survival)} [${pct(last.lower)}–${pct(last.upper)}] after turn ${last.turn}` : '–';
      const row = [a, `${inc.count}/${inc.n ?? g.analysed}`, pct(inc.rate), `${pct(inc.ci95[0])} – ${pct(inc.ci95[1])}`, onsetText(g.onset[a]), medianOnsetText(g.medianOnset[a]), notYet];
      return judged ? [...row, String(inc.leftOut ?? 0)] : row;
    }), md));
    out.push('');
  }
  if (g.words.length > 0) {
    out.push(grid(['word', 'avg uses per transcript', 'transcripts using it', 'max in one'], g.words.map((w) => [w.word, num(w.meanPerRun), pct(w.shareOfRuns), String(w.max)]), md));
    out.push('');
  }
  if (g.emoji.length > 0) {
    out.push(grid(['emoji', 'avg uses per transcript', 'transcripts using it', 'max in one'], g.emoji.map((w) => [w.emoji, num(w.meanPerRun), pct(w.shareOfRuns), String(w.max)]), md));
    out.push('');
  }
  return out.join('\n');
}

function heading(title: string, md: boolean): string {
  return md ? `## ${title}\n` : `== ${title} ==`;
}

/** Runs counted in the groups compared: analysed runs (with source judge, judged runs). */
const countedRuns = (r: StatsResult) => r.groups.reduce((n, g) => n + g.analysed, 0);

function comparisonsBlock(r: StatsResult, md: boolean): string {
  if (r.groups.length < 2 || r.attractors.length === 0) return '';
  const plan = r.comparisonPlan;
  const which = plan.pairs === 'all' ? 'every pair of groups' : 'pairs of groups that differ in exactly one factor';
  const out = [heading(`Comparisons: Fisher exact test (two-sided) of incidence between ${which}, Holm-adjusted over ${plural(r.comparisons.length, 'test')}; ${r.groups.length} groups, ${plural(countedRuns(r), 'counted run')}`, md)];
  if (r.comparisons.length > 0) {
    out.push(grid(['attractor', 'differs in', 'group A', 'group B', 'A', 'B', 'p', 'Holm p'], r.comparisons.map((c) => [c.attractor, c.factor ?? '(several)', c.a, c.b, `${c.countA}/${c.runsA}`, `${c.countB}/${c.runsB}`, pValue(c.p), pValue(c.pHolm)]), md));
  }
  const leftOut: string[] = [];
  if (plan.leftOut) leftOut.push(`no comparison: ${plan.leftOut}`);
  if (plan.pairsOffFactor > 0) leftOut.push(`${plural(plan.pairsOffFactor, 'pair')} of groups that differ in more than one factor (--compare all tests them too)`);
  if (plan.uninformative > 0) leftOut.push(`${plural(plan.uninformative, 'table')} where no run entered in either group, or every run did in both (no test can tell such groups apart)`);
  if (leftOut.length > 0) out.push(`${md ? '\n' : ''}Left out: ${leftOut.join('; ')}.`);
  else if (r.comparisons.length === 0) out.push(`${md ? '\n' : ''}No pair of groups to compare.`);
  return out.join('\n') + '\n';
}

function logRankBlock(r: StatsResult, md: boolean): string {
  if (r.groups.length < 2 || r.attractors.length === 0) return '';
  const out = [heading(`Log-rank tests: do the groups share one Kaplan–Meier curve (time to entering each attractor)? ${r.groups.length} groups, ${plural(countedRuns(r), 'counted run')}`, md)];
  out.push(grid(['attractor', 'runs', 'χ²', 'df', 'p', 'most above expected (entered / expected)'], r.attractors.map((a) => {
    const t = r.logRank[a];
    if (!t) return [a, '–', '–', '–', '–', r.groups.length > MAX_LOG_RANK_GROUPS ? `left out: more than ${MAX_LOG_RANK_GROUPS} groups` : 'not defined: no run entered, or fewer than two groups with runs'];
    const runs = t.groups.reduce((n, g) => n + g.n, 0);
    const top = t.groups.reduce((best, g) => (g.observed - g.expected > best.observed - best.expected ? g : best));
    return [a, String(runs), t.chiSquare.toFixed(2), String(t.df), pValue(t.p), `${top.key}: ${top.observed} / ${top.expected.toFixed(1)}`];
  }), md));
  // With two groups the one pairwise test is the test above.
  if (r.logRankPairs.length > 0 && r.groups.length > 2) {
    const which = r.comparisonPlan.pairs === 'all' ? 'every pair of groups' : 'pairs of groups that differ in exactly one factor';
    out.push('', `Log-rank tests between ${which}, Holm-adjusted over ${plural(r.logRankPairs.length, 'test')}:${md ? '\n' : ''}`);
    out.push(grid(['attractor', 'differs in', 'group A', 'group B', 'χ²', 'p', 'Holm p'], r.logRankPairs.map((t) => [t.attractor, t.factor ?? '(several)', t.a, t.b, t.chiSquare.toFixed(2), pValue(t.p), pValue(t.pHolm)]), md));
  }
  return out.join('\n') + '\n';
}

const judgeName = (r: StatsResult) => (r.judge ? `${r.judge.backend}:${r.judge.model}` : '?');

const csvCell = (v: string | number) => {
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** Tidy CSV: one value per row (group, table, item, metric, value), ready for a pandas pivot. */
function csv(r: StatsResult): string {
  const rows: (string | number)[][] = [['group', 'table', 'item', 'metric', 'value']];
  for (const g of r.groups) {
    for (const [name, value] of Object.entries(g.factors)) rows.push([g.key, 'factor', name, 'value', value]);
    rows.push([g.key, 'run', '', 'runs', g.runs], [g.key, 'run', '', 'analysed', g.analysed], [g.key, 'run', '', 'unanalysed', g.unanalysed], [g.key, 'run', '', 'turns', g.turns], [g.key, 'run', '', 'failedTurns', g.failedTurns],
      [g.key, 'run', '', 'inputTokens', g.tokens.input], [g.key, 'run', '', 'outputTokens', g.tokens.output], [g.key, 'run', '', 'costUsd', g.costUsd]);
    for (const [k, n] of Object.entries(g.endStates)) rows.push([g.key, 'endState', k, 'runs', n]);
    for (const a of r.attractors) {
      const inc = g.incidence[a]!;
      const o = g.onset[a]!;
      rows.push([g.key, 'incidence', a, 'count', inc.count], [g.key, 'incidence', a, 'rate', inc.rate], [g.key, 'incidence', a, 'ci95Low', inc.ci95[0]], [g.key, 'incidence', a, 'ci95High', inc.ci95[1]]);
      if (inc.n !== undefined) rows.push([g.key, 'incidence', a, 'n', inc.n], [g.key, 'incidence', a, 'leftOut', inc.leftOut ?? 0]);
      for (const m of ['median', 'q1', 'q3'] as const) if (o[m] !== null) rows.push([g.key, 'onset', a, m, o[m]!]);
      const m = g.medianOnset[a]!;
      for (const k of ['median', 'lower', 'upper'] as const) if (m[k] !== null) rows.push([g.key, 'medianOnset', a, k, m[k]!]);
      for (const p of g.survival[a] ?? []) rows.push([g.key, 'survival', a, `turn ${p.turn}`, p.survival], [g.key, 'survivalLower', a, `turn ${p.turn}`, p.lower], [g.key, 'survivalUpper', a, `turn ${p.turn}`, p.upper]);
    }
    for (const w of g.words) rows.push([g.key, 'word', w.word, 'meanPerRun', w.meanPerRun], [g.key, 'word', w.word, 'shareOfRuns', w.shareOfRuns], [g.key, 'word', w.word, 'max', w.max]);
    for (const w of g.emoji) rows.push([g.key, 'emoji', w.emoji, 'meanPerRun', w.meanPerRun], [g.key, 'emoji', w.emoji, 'shareOfRuns', w.shareOfRuns], [g.key, 'emoji', w.emoji, 'max', w.max]);
  }
  for (const c of r.comparisons) {
    const pair = `${c.a} vs ${c.b}`;
    rows.push([pair, 'fisher', c.attractor, 'p', c.p], [pair, 'fisher', c.attractor, 'pHolm', c.pHolm]);
    if (c.factor) rows.push([pair, 'fisher', c.attractor, 'differsIn', c.factor]);
  }
  for (const a of r.attractors) {
    const t = r.logRank[a];
    if (t) rows.push(['all groups', 'logRank', a, 'chiSquare', t.chiSquare], ['all groups', 'logRank', a, 'df', t.df], ['all groups', 'logRank', a, 'p', t.p]);
  }
  for (const t of r.logRankPairs) rows.push([`${t.a} vs ${t.b}`, 'logRank', t.attractor, 'p', t.p], [`${t.a} vs ${t.b}`, 'logRank', t.attractor, 'pHolm', t.pHolm]);
  // A comment line above the header says how the groups were formed (pandas: read_csv(..., comment='#')).
  return `# grouping: ${r.grouping.description.replace(/[\r\n]+/g, ' ')}\n` + rows.map((row) => row.map(csvCell).join(',')).join('\n') + '\n';
}

/** Render stats for people (table, md) or tools (csv, json). */
export function formatStats(r: StatsResult, format: StatsFormat): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(r)}\n`;
    case 'csv':
      return csv(r);
    case 'table':
    case 'md': {
      const md = format === 'md';
      if (r.groups.length === 0) return 'no runs found\n';
      // The detectors' analysis is what stats always counted; a judge's verdicts are said at the top.
      const source = r.source === 'judge' ? `${md ? '' : '== '}verdicts of the judge ${judgeName(r)}; a run whose judgement is missing, failed or partial is left out of the attractors it did not find${md ? '\n' : ' =='}` : '';
      const grouping = md ? `**Grouping:** ${r.grouping.description} · ${plural(r.groups.length, 'group')}\n` : `grouping: ${r.grouping.description} · ${plural(r.groups.length, 'group')}\n`;
      return [grouping, source, ...r.groups.map((g) => groupBlock(g, r, md)), comparisonsBlock(r, md), logRankBlock(r, md)].filter(Boolean).join('\n') + '\n';
    }
    default: {
      const never: never = format;
      return never;
    }
  }
}
