import type { AgreementResult } from '../agreement.js';
import type { GroupStats, StatsResult } from '../aggregate.js';
import { AGREEMENT_HEAD, agreementRows } from '../format-agreement.js';
import { groupKey, type Grouping } from '../group-key.js';
import { observedTurns, type RunSummary } from '../run-summary.js';
import { describeSource, verdictsOf, type ChosenSource } from '../verdict-source.js';
import { esc } from './escape.js';
import { heatmap, intervalChart, lineChart, type HeatRow, type Series } from './svg.js';

/** Most runs drawn in one heatmap; more would make rows thinner than a pixel. */
const HEATMAP_ROWS = 150;

export interface ReportOptions {
  title?: string;
  /** The analysis.turn feature drawn as a trajectory (default 'drift'). */
  feature: string;
  grouping: Grouping;
  generatedAt?: Date;
  /** Judge–detector agreement, one table per judge (none when the runs hold no judgement). */
  agreements?: readonly AgreementResult[];
  /** The fork section (forks-section.ts), rendered beforehand: its figures are drawn asynchronously. */
  forksSection?: string;
}

const pct = (x: number | null) => (x === null ? '–' : `${(x * 100).toFixed(1)}%`);
const num = (x: number | null) => (x === null ? '–' : Number.isInteger(x) ? String(x) : x.toFixed(1));

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

function groupTables(g: GroupStats, attractors: readonly string[], judged: boolean): string {
  const parts = [`<h3>${esc(g.key)}</h3>`, `<p>${g.runs} runs${g.unanalysed > 0 ? ` (${g.unanalysed} ${judged ? 'not judged' : 'without attractor analysis'})` : ''} · ${g.turns} turns · ${g.failedTurns} failed turns (${g.failedAttempts} failed attempts) · ${g.tokens.input} input / ${g.tokens.output} output tokens · $${g.costUsd.toFixed(4)}</p>`];
  parts.push(table(['end state', 'runs'], Object.entries(g.endStates).sort((a, b) => b[1] - a[1]).map(([k, n]) => [k, String(n)])));
  if (attractors.length) {
    parts.push(table(['attractor', 'entered', 'rate', '95% CI (Wilson)', 'onset median', 'onset IQR', ...(judged ? ['left out (no verdict)'] : [])], attractors.map((a) => {
      const inc = g.incidence[a]!;
      const o = g.onset[a]!;
      const row = [a, `${inc.count}/${inc.n ?? g.analysed}`, pct(inc.rate), `${pct(inc.ci95[0])} – ${pct(inc.ci95[1])}`, num(o.median), o.n ? `${num(o.q1)}–${num(o.q3)}` : '–'];
      return judged ? [...row, String(inc.leftOut ?? 0)] : row;
    })));
  }
  if (g.words.length) parts.push(table(['word', 'avg uses per transcript', 'transcripts using it', 'max in one'], g.words.map((w) => [w.word, w.meanPerRun.toFixed(1), pct(w.shareOfRuns), String(w.max)])));
  if (g.emoji.length) parts.push(table(['emoji', 'avg uses per transcript', 'transcripts using it', 'max in one'], g.emoji.map((w) => [w.emoji, w.meanPerRun.toFixed(1), pct(w.shareOfRuns), String(w.max)])));
  return parts.join('\n');
}

/** Mean of the feature at each turn over the group's runs that recorded it. */
function trajectory(runs: readonly RunSummary[]): [number, number][] {
  const sum = new Map<number, [number, number]>();
  for (const r of runs) for (const [t, v] of r.feature) {
    const acc = sum.get(t) ?? [0, 0];
    acc[0] += v;
    acc[1]++;
    sum.set(t, acc);
  }
  return [...sum].sort((a, b) => a[0] - b[0]).map(([t, [s, n]]) => [t, s / n]);
}

const STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:960px;color:#222;padding:0 1em}
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ddd}h3{margin-bottom:.3em}
table{border-collapse:collapse;margin:.6em 0 1.2em}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}th{background:#f4f4f4}
svg{display:block;margin:.5em 0 1.5em;max-width:100%;height:auto}svg .t{font-weight:600;font-size:13px}svg .ax{font-size:10px;fill:#555}
svg .lb{font-size:11px}svg .sm{font-size:7px;fill:#555}svg .grid{stroke:#e5e5e5}svg .ci{stroke:#222;stroke-width:1.5}.note{color:#666}`;

/**
 * The whole report as one HTML file: inline CSS and SVG, no scripts, no external assets, so it opens
 * offline and can be mailed. Every string that came from a run log is escaped.
 */
export function renderReport(result: StatsResult, summaries: readonly RunSummary[], options: ReportOptions): string {
  const byGroup = new Map(result.groups.map((g, i) => [g.key, { index: i, runs: [] as RunSummary[] }]));
  for (const s of summaries) byGroup.get(groupKey(s, options.grouping))?.runs.push(s);
  const title = options.title ?? 'persona-arena report';
  const source: ChosenSource = result.judge ? { kind: 'judge', judge: result.judge } : { kind: 'detector' };
  const judged = source.kind === 'judge';
  const body: string[] = [`<h1>${esc(title)}</h1>`, `<p class="note">${summaries.length} runs in ${result.groups.length} groups · generated ${esc((options.generatedAt ?? new Date()).toISOString())}</p>`];
  body.push(
    `<p id="source"><strong>Attractor verdicts:</strong> ${esc(describeSource(source))}${judged ? '. A run whose judgement is missing, failed or does not cover every turn is left out of the attractors it did not find (counted as left out, never as absent).' : '.'}</p>`,
  );

  body.push('<h2>Attractor incidence</h2>');
  if (result.attractors.length === 0) body.push(judged ? '<p class="note">The judge named no attractor in these runs.</p>' : '<p class="note">No attractor analysis in these runs (run <code>arena analyze --write</code> on them first).</p>');
  // Groups with no run counted have no rate to draw.
  for (const a of result.attractors) {
    const counted = (g: GroupStats) => g.incidence[a]!.n ?? g.analysed;
    const what = judged ? 'runs with a verdict that the judge found in it' : 'analysed runs that entered';
    body.push(intervalChart(`${a}: share of ${what} (Wilson 95% interval)`, result.groups.filter((g) => counted(g) > 0).map((g) => ({ label: g.key, value: g.incidence[a]!.rate, lo: g.incidence[a]!.ci95[0], hi: g.incidence[a]!.ci95[1], note: `${g.incidence[a]!.count}/${counted(g)}` }))));
  }

  if (options.agreements?.length) {
    body.push('<section id="agreement"><h2>Agreement between judge and detectors</h2>');
    for (const r of options.agreements) {
      body.push(
        `<h3>${esc(`${r.judge.backend}:${r.judge.model}`)}</h3>`,
        `<p class="note">Cohen's κ per attractor over the runs both the judge and the detectors have a verdict for (${r.runs} runs read); left out: runs whose judgement is missing, failed or partial for the attractor, or whose detectors did not score it. 95% CI: ${esc(r.method)}.</p>`,
        r.attractors.length ? table(AGREEMENT_HEAD, agreementRows(r)) : '<p class="note">The judge named no attractor.</p>',
      );
    }
    body.push('</section>');
  }

  body.push('<h2>Survival: share of runs not yet in the attractor</h2><p class="note">Kaplan–Meier estimate; runs that never entered are censored at their last turn.</p>');
  for (const a of result.attractors) {
    const series: Series[] = result.groups.map((g) => ({ label: g.key, step: true, points: [[0, 1] as [number, number], ...g.survival[a]!.map((p) => [p.turn, p.survival] as [number, number])] }));
    body.push(lineChart(`${a}: not yet entered`, series, { yLabel: 'share of runs', yMin: 0, yMax: 1 }));
  }

  body.push(`<h2>Mean ${esc(options.feature)} per turn</h2>`);
  const trajectories: Series[] = result.groups.map((g) => ({ label: g.key, points: trajectory(byGroup.get(g.key)!.runs) }));
  if (trajectories.every((s) => s.points.length === 0)) body.push(`<p class="note">No analysis.turn events with a numeric "${esc(options.feature)}" feature (run \`arena analyze\` with embeddings, or pick another with --feature).</p>`);
  else body.push(lineChart(`mean ${options.feature} by turn, per condition`, trajectories, { yLabel: options.feature }));

  body.push('<h2>Attractor scores, runs × turns</h2>');
  const scoreNames = [...new Set(summaries.flatMap((s) => [...s.scores.values()].flatMap((sc) => Object.keys(sc))))].sort();
  if (scoreNames.length === 0) body.push('<p class="note">No analysis.turn scores in these runs.</p>');
  // An equal share of rows per condition, so a large first group does not crowd the others out.
  const perGroup = Math.max(1, Math.floor(HEATMAP_ROWS / Math.max(1, result.groups.length)));
  const shown = result.groups.flatMap((g) => byGroup.get(g.key)!.runs.slice(0, perGroup).map((r) => ({ r, group: byGroup.get(g.key)!.index })));
  if (scoreNames.length && summaries.length > shown.length) body.push(`<p class="note">The first ${perGroup} runs of each condition shown (${shown.length} of ${summaries.length}).</p>`);
  const turns = Math.max(1, ...shown.map(({ r }) => observedTurns(r)));
  for (const name of scoreNames) {
    const rows: HeatRow[] = shown.map(({ r, group }) => {
      const scores = new Map<number, number>();
      for (const [t, sc] of r.scores) if (typeof sc[name] === 'number') scores.set(t, sc[name]!);
      const v = verdictsOf(r, source).verdict(name);
      const onset = v?.entered ? v.onset : undefined;
      return { label: r.runId, scores, group, ...(onset !== undefined ? { onset } : {}) };
    });
    body.push(heatmap(`${name} score (darker = higher; black tick = ${judged ? "the judge's onset" : 'onset'})`, rows, turns));
  }

  if (options.forksSection) body.push(options.forksSection);

  body.push('<h2>Tables</h2>');
  for (const g of result.groups) body.push(groupTables(g, result.attractors, judged));
  if (result.comparisons.length) {
    body.push('<h3>Comparisons (Fisher exact test, two-sided)</h3>', table(['attractor', 'group A', 'group B', 'A', 'B', 'p'], result.comparisons.map((c) => [c.attractor, c.a, c.b, `${c.countA}/${c.runsA}`, `${c.countB}/${c.runsB}`, c.p < 0.0001 ? c.p.toExponential(2) : c.p.toFixed(4)])));
  }
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${esc(title)}</title><style>${STYLE}</style></head><body>\n${body.join('\n')}\n</body></html>\n`;
}
