import type { AgreementResult } from '../agreement.js';
import type { GroupStats, StatsResult } from '../aggregate.js';
import { AGREEMENT_HEAD, agreementRows } from '../format-agreement.js';
import { groupKey, type Grouping } from '../group-key.js';
import { observedTurns, type RunSummary } from '../run-summary.js';
import { describeSource, verdictsOf, type ChosenSource } from '../verdict-source.js';
import { esc } from './escape.js';
import { plural } from '../format-stats.js';
import { heatmapSpec, incidenceMatrixSpec, lineSpec, survivalSpec, toSvg, trajectorySpec, type HeatCell, type IncidenceCell, type LinePoint, type ScatterPoint, type SurvivalCurve } from './figures.js';
import { medianOnset } from '../stats/kaplan-meier.js';
import type { TrajectoryReading } from '../gather-trajectories.js';
import { trajectoryTable } from '../format-trajectories.js';

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
  /** The fork section (forks-section.ts), rendered beforehand. */
  forksSection?: string;
  /** Trajectories in embedding space (when the runs hold embeddings). */
  trajectories?: TrajectoryReading;
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

const STYLE = `body{font:15px/1.5 system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:1.5em auto;max-width:1280px;color:#222;padding:0 1.5em}
h1{font-size:1.7em;margin-bottom:.2em}h2{margin-top:2.2em;border-bottom:1px solid #ddd;padding-bottom:.2em}h3{margin-bottom:.3em}
table{border-collapse:collapse;margin:.6em 0 1.2em}td,th{border:1px solid #ddd;padding:4px 10px;text-align:left;vertical-align:top}th{background:#f4f4f4}
td.n{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:.8em 0 1.8em}figure svg{display:block;max-width:100%;height:auto}figcaption{color:#555;font-size:.9em;margin-top:.3em}
.note{color:#555}.groups{columns:2;column-gap:3em}.groups h3{break-after:avoid}.group{break-inside:avoid}`;

/** A figure rendered to SVG, labelled with its title (for readers and tests) and an optional caption. */
async function figure(spec: Parameters<typeof toSvg>[0], caption?: string): Promise<string> {
  const label = (spec as { description?: string }).description;
  return `<figure${label ? ` aria-label="${esc(label)}"` : ''}>${await toSvg(spec)}${caption ? `<figcaption>${esc(caption)}</figcaption>` : ''}</figure>`;
}

/**
 * The whole report as one HTML file: inline CSS and SVG, no scripts, no external assets, so it opens
 * offline and can be mailed. Every string that came from a run log is escaped. Figures are Vega-Lite
 * specifications (figures.ts) rendered to SVG here.
 */
export async function renderReport(result: StatsResult, summaries: readonly RunSummary[], options: ReportOptions): Promise<string> {
  const byGroup = new Map(result.groups.map((g, i) => [g.key, { index: i, runs: [] as RunSummary[] }]));
  for (const s of summaries) byGroup.get(groupKey(s, options.grouping))?.runs.push(s);
  const title = options.title ?? 'persona-arena report';
  const source: ChosenSource = result.judge ? { kind: 'judge', judge: result.judge } : { kind: 'detector' };
  const judged = source.kind === 'judge';
  const body: string[] = [
    `<h1>${esc(title)}</h1>`,
    `<p class="note">${summaries.length} runs in ${result.groups.length} conditions · generated ${esc((options.generatedAt ?? new Date()).toISOString())}</p>`,
    `<p id="grouping"><strong>Conditions:</strong> ${esc(result.grouping.description)}</p>`,
    `<p id="source"><strong>Attractor verdicts:</strong> ${esc(describeSource(source))}${judged ? '. A run whose judgement is missing, failed or does not cover every turn is left out of the attractors it did not find (counted as left out, never as absent).' : '.'}</p>`,
  ];
  const counted = (g: GroupStats, a: string) => g.incidence[a]!.n ?? g.analysed;

  body.push('<h2 id="incidence">Attractor incidence</h2>');
  if (result.attractors.length === 0) body.push(judged ? '<p class="note">The judge named no attractor in these runs.</p>' : '<p class="note">No attractor analysis in these runs (run <code>arena analyze --write</code> on them first).</p>');
  else {
    const cells: IncidenceCell[] = result.groups.flatMap((g) =>
      result.attractors.map((a) => {
        const inc = g.incidence[a]!;
        return { condition: g.key, attractor: a, entered: inc.count, runs: counted(g, a), rate: inc.rate, lo: inc.ci95[0], hi: inc.ci95[1] };
      }),
    );
    const what = judged ? 'runs with a verdict' : 'analysed runs';
    body.push(await figure(incidenceMatrixSpec(cells, `${summaries.length} runs; denominators are the ${what} of each condition`)));
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

  if (result.attractors.length) {
    body.push('<h2 id="survival">Time to attractor</h2><p class="note">Kaplan–Meier estimate of the share of runs not yet in the attractor, per condition, with its Greenwood 95% band; runs that never entered are censored at their last turn.</p>');
    for (const a of result.attractors) {
      const curves: SurvivalCurve[] = result.groups.map((g) => ({
        condition: g.key,
        entered: g.incidence[a]!.count,
        runs: counted(g, a),
        median: medianOnset(g.survival[a]!).median,
        points: g.survival[a]!,
      }));
      const { spec, notDrawn } = survivalSpec(a, curves);
      const rank = logRankLine(result, a);
      if (curves.some((c) => c.entered > 0)) body.push(await figure(spec, [notDrawn.length ? `Not drawn, no run entered: ${notDrawn.join(', ')}.` : '', rank].filter(Boolean).join(' ')));
      else body.push(`<p class="note">${esc(`${a}: no run of any condition entered it (${curves.map((c) => `${c.condition} 0/${c.runs}`).join(', ')}).`)}</p>`);
    }
  }

  if (options.trajectories) body.push(await trajectorySection(options.trajectories));

  const featurePoints: LinePoint[] = result.groups.flatMap((g) => trajectory(byGroup.get(g.key)!.runs).map(([turn, value]) => ({ series: g.key, turn, value })));
  body.push(`<h2 id="feature">Mean ${esc(options.feature)} per turn</h2>`);
  if (featurePoints.length === 0) body.push(`<p class="note">No analysis.turn events with a numeric "${esc(options.feature)}" feature (run \`arena analyze\` with embeddings, or pick another with --feature).</p>`);
  else body.push(await figure(lineSpec(`Mean ${options.feature} by turn`, 'per condition, over the runs that reached the turn', featurePoints, options.feature)));

  if (options.forksSection) body.push(options.forksSection);

  body.push('<h2 id="heatmaps">Attractor scores, runs × turns</h2>');
  const scoreNames = [...new Set(summaries.flatMap((s) => [...s.scores.values()].flatMap((sc) => Object.keys(sc))))].sort();
  if (scoreNames.length === 0) body.push('<p class="note">No analysis.turn scores in these runs.</p>');
  // An equal share of rows per condition, so a large first group does not crowd the others out.
  const perGroup = Math.max(1, Math.floor(HEATMAP_ROWS / Math.max(1, result.groups.length)));
  const shown = result.groups.flatMap((g) => byGroup.get(g.key)!.runs.slice(0, perGroup).map((r) => ({ r, condition: g.key })));
  if (scoreNames.length && summaries.length > shown.length) body.push(`<p class="note">The first ${perGroup} runs of each condition are shown (${shown.length} of ${summaries.length}).</p>`);
  const turns = Math.max(1, ...shown.map(({ r }) => observedTurns(r)));
  for (const name of scoreNames) {
    const cells: HeatCell[] = [];
    const onsets: { run: string; condition: string; turn: number }[] = [];
    for (const { r, condition } of shown) {
      for (const [t, sc] of r.scores) if (typeof sc[name] === 'number' && t >= 1 && t <= turns) cells.push({ run: r.runId, condition, turn: t, score: Math.min(1, Math.max(0, sc[name]!)) });
      const v = verdictsOf(r, source).verdict(name);
      if (v?.entered) onsets.push({ run: r.runId, condition, turn: v.onset });
    }
    body.push(await figure(heatmapSpec(`${name} score per turn${judged ? " (ticks: the judge's onset)" : ''}`, cells, onsets, shown.map(({ r, condition }) => ({ run: r.runId, condition })), turns)));
  }

  body.push('<h2 id="tables">Tables per condition</h2><div class="groups">');
  for (const g of result.groups) body.push(`<div class="group">${groupTables(g, result.attractors, judged)}</div>`);
  body.push('</div>');
  body.push(comparisonsBlock(result));
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${esc(title)}</title><style>${STYLE}</style></head><body>\n${body.join('\n')}\n</body></html>\n`;
}

/** The log-rank line under a survival figure. */
function logRankLine(result: StatsResult, attractor: string): string {
  const lr = result.logRank[attractor];
  if (!lr) return '';
  return `Log-rank test across the ${lr.groups.filter((g) => g.n > 0).length} conditions: χ² = ${lr.chiSquare.toFixed(2)}, df = ${lr.df}, p = ${pValue(lr.p)}.`;
}

const pValue = (x: number) => (x < 0.0001 ? x.toExponential(2) : x.toFixed(4));

function comparisonsBlock(result: StatsResult): string {
  if (result.groups.length < 2 || result.attractors.length === 0) return '';
  const plan = result.comparisonPlan;
  const which = plan.pairs === 'all' ? 'every pair of conditions' : 'pairs of conditions that differ in exactly one factor';
  const out = [`<h3 id="comparisons">Comparisons of incidence: Fisher exact test (two-sided) between ${which}, Holm-adjusted over ${result.comparisons.length === 1 ? 'the one test' : `the ${result.comparisons.length} tests`}</h3>`];
  if (result.comparisons.length > 0) {
    out.push(table(['attractor', 'differs in', 'condition A', 'condition B', 'A', 'B', 'p', 'Holm p'], result.comparisons.map((c) => [c.attractor, c.factor ?? '(several)', c.a, c.b, `${c.countA}/${c.runsA}`, `${c.countB}/${c.runsB}`, pValue(c.p), pValue(c.pHolm)])));
  }
  const leftOut: string[] = [];
  if (plan.leftOut) leftOut.push(`no comparison: ${plan.leftOut}`);
  if (plan.pairsOffFactor > 0) leftOut.push(`${plural(plan.pairsOffFactor, 'pair')} of conditions that differ in more than one factor (arena stats --compare all tests them)`);
  if (plan.uninformative > 0) leftOut.push(`${plural(plan.uninformative, 'table')} where no run entered in either condition, or every run did in both (no test can tell them apart)`);
  if (leftOut.length > 0) out.push(`<p class="note">Left out: ${esc(leftOut.join('; '))}.</p>`);
  return out.join('\n');
}

async function trajectorySection(t: TrajectoryReading): Promise<string> {
  const out = ['<h2 id="trajectories">Trajectories in embedding space</h2>'];
  if (t.runsWithout > 0) out.push(`<p class="note">${t.runsWithout} of ${t.runsRead} runs hold no embeddings (${esc(t.embeddingModel)}) and are not in this section; run them with <code>--embeddings offline</code>.</p>`);
  const points: ScatterPoint[] = t.conditions.flatMap((c) => c.points.map((p) => ({ condition: c.condition, x: p.x, y: p.y })));
  const centroids: ScatterPoint[] = t.conditions.map((c) => ({ condition: c.condition, ...c.centroid }));
  out.push(await figure(trajectorySpec(points, centroids, { explained: t.projection.explainedVariance, note: `${t.projection.vectors} turns of ${t.runsRead - t.runsWithout} runs, ${t.embeddingModel}` })));
  const { head, rows } = trajectoryTable(t);
  out.push(table(head, rows));
  const drift: LinePoint[] = t.conditions.flatMap((c) => c.drift.map((d) => ({ series: c.condition, turn: d.turn, value: d.mean })));
  out.push(await figure(lineSpec('Drift from the opening turn', 'mean cosine distance between each turn and its run\'s first turn, per condition', drift, '1 − cos(turn, opening)')));
  return out.join('\n');
}
