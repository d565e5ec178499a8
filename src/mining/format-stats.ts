import type { GroupStats, StatsResult } from './aggregate.js';
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

function groupBlock(g: GroupStats, r: StatsResult, md: boolean): string {
  const attractors = r.attractors;
  const judged = r.source === 'judge';
  const out: string[] = [];
  const unanalysed = g.unanalysed > 0 ? (judged ? ` (${g.unanalysed} without a judgement by ${judgeName(r)})` : ` (${g.unanalysed} without attractor analysis)`) : '';
  const facts = `runs ${g.runs}${unanalysed} · turns ${g.turns} · failed turns ${g.failedTurns} (${g.failedAttempts} failed attempts) · tokens ${g.tokens.input} in / ${g.tokens.output} out · cost $${g.costUsd.toFixed(4)}`;
  const ends = Object.entries(g.endStates).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
  out.push(md ? `## ${g.key.replace(/[\\`*_[\]<>#|]/g, '\\$&')}\n\n${facts}\n\nEnd states: ${ends}\n` : `== ${g.key} ==\n${facts}\nend states: ${ends}\n`);
  if (attractors.length > 0) {
    const head = ['attractor', 'entered', 'rate', '95% CI (Wilson)', 'onset median (IQR)', 'not yet in (KM)', ...(judged ? ['left out (no verdict)'] : [])];
    out.push(grid(head, attractors.map((a) => {
      const inc = g.incidence[a]!;
      const last = g.survival[a]?.at(-1);
      const row = [a, `${inc.count}/${inc.n ?? g.analysed}`, pct(inc.rate), `${pct(inc.ci95[0])} – ${pct(inc.ci95[1])}`, onsetText(g.onset[a]), last ? `${pct(last.survival)} after turn ${last.turn}` : '–'];
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

function comparisonsBlock(r: StatsResult, md: boolean): string {
  if (r.comparisons.length === 0) return '';
  const head = md ? '## Comparisons (Fisher exact test, two-sided)\n' : '== comparisons (Fisher exact test, two-sided) ==';
  return `${head}\n${grid(['attractor', 'group A', 'group B', 'A', 'B', 'p'], r.comparisons.map((c) => [c.attractor, c.a, c.b, `${c.countA}/${c.runsA}`, `${c.countB}/${c.runsB}`, c.p < 0.0001 ? c.p.toExponential(2) : c.p.toFixed(4)]), md)}\n`;
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
    rows.push([g.key, 'run', '', 'runs', g.runs], [g.key, 'run', '', 'analysed', g.analysed], [g.key, 'run', '', 'unanalysed', g.unanalysed], [g.key, 'run', '', 'turns', g.turns], [g.key, 'run', '', 'failedTurns', g.failedTurns],
      [g.key, 'run', '', 'inputTokens', g.tokens.input], [g.key, 'run', '', 'outputTokens', g.tokens.output], [g.key, 'run', '', 'costUsd', g.costUsd]);
    for (const [k, n] of Object.entries(g.endStates)) rows.push([g.key, 'endState', k, 'runs', n]);
    for (const a of r.attractors) {
      const inc = g.incidence[a]!;
      const o = g.onset[a]!;
      rows.push([g.key, 'incidence', a, 'count', inc.count], [g.key, 'incidence', a, 'rate', inc.rate], [g.key, 'incidence', a, 'ci95Low', inc.ci95[0]], [g.key, 'incidence', a, 'ci95High', inc.ci95[1]]);
      if (inc.n !== undefined) rows.push([g.key, 'incidence', a, 'n', inc.n], [g.key, 'incidence', a, 'leftOut', inc.leftOut ?? 0]);
      for (const m of ['median', 'q1', 'q3'] as const) if (o[m] !== null) rows.push([g.key, 'onset', a, m, o[m]!]);
      for (const p of g.survival[a] ?? []) rows.push([g.key, 'survival', a, `turn ${p.turn}`, p.survival]);
    }
    for (const w of g.words) rows.push([g.key, 'word', w.word, 'meanPerRun', w.meanPerRun], [g.key, 'word', w.word, 'shareOfRuns', w.shareOfRuns], [g.key, 'word', w.word, 'max', w.max]);
    for (const w of g.emoji) rows.push([g.key, 'emoji', w.emoji, 'meanPerRun', w.meanPerRun], [g.key, 'emoji', w.emoji, 'shareOfRuns', w.shareOfRuns], [g.key, 'emoji', w.emoji, 'max', w.max]);
  }
  for (const c of r.comparisons) rows.push([`${c.a} vs ${c.b}`, 'fisher', c.attractor, 'p', c.p]);
  return rows.map((row) => row.map(csvCell).join(',')).join('\n') + '\n';
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
      return [source, ...r.groups.map((g) => groupBlock(g, r, md)), comparisonsBlock(r, md)].filter(Boolean).join('\n') + '\n';
    }
    default: {
      const never: never = format;
      return never;
    }
  }
}
