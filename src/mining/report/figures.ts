import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/**
 * The report's figures as Vega-Lite specifications, rendered to SVG here, offline (no browser, no network,
 * no fonts fetched): legends, axis titles and label placement come from the grammar instead of hand-placed
 * coordinates. Each builder is pure (data in, spec out) so tests can read what a figure shows; `toSvg`
 * renders one.
 */

/** Width of the plotting area of a full-width figure, in CSS pixels (the page is about 1,200 wide). */
export const FIGURE_WIDTH = 1000;

const FONT = 'system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif';

/** Shared look: readable sizes, no border around the view, legends below the plot. */
const CONFIG = {
  font: FONT,
  view: { stroke: null },
  axis: { labelFontSize: 12, titleFontSize: 13, titleFontWeight: 600, gridColor: '#e8e8e8', labelLimit: 360 },
  legend: { labelFontSize: 12, titleFontSize: 13, labelLimit: 520, titleLimit: 520, orient: 'bottom', direction: 'vertical', symbolStrokeWidth: 3 },
  title: { fontSize: 15, fontWeight: 600, anchor: 'start', subtitleFontSize: 12, subtitleColor: '#555' },
  header: { labelFontSize: 13, titleFontSize: 13 },
} as const;

/** Render a Vega-Lite specification to an SVG string. */
export async function toSvg(spec: TopLevelSpec): Promise<string> {
  // Vega-Lite's notes on the spec (e.g. about faceted scales) go nowhere: the report's reader cannot act on
  // them, and stderr is the CLI's. Errors still throw.
  const quiet = { level: () => quiet, warn: () => quiet, info: () => quiet, debug: () => quiet, error: (...args: unknown[]) => { throw new Error(args.map(String).join(' ')); } };
  const view = new vega.View(vega.parse(compile(spec, { logger: quiet as never }).spec), { renderer: 'none', logLevel: vega.Error });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

function withConfig(spec: Record<string, unknown>): TopLevelSpec {
  // The title doubles as the figure's description: Vega writes it as the SVG's aria-label.
  const title = spec.title as { text?: string } | undefined;
  return { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', config: CONFIG, ...(title?.text ? { description: title.text } : {}), ...spec } as TopLevelSpec;
}

const percent = (x: number) => `${Math.round(x * 1000) / 10}%`;

/** One cell of the incidence matrix. */
export interface IncidenceCell {
  condition: string;
  attractor: string;
  entered: number;
  runs: number;
  rate: number;
  lo: number;
  hi: number;
}

/**
 * Conditions × attractors: each cell shaded by the share of runs that entered, and labelled with the count,
 * the share and its Wilson 95% interval. A cell with no analysed run is shown as "no runs", never as 0%.
 */
export function incidenceMatrixSpec(cells: readonly IncidenceCell[], runsNote: string): TopLevelSpec {
  const values = cells.map((c) => ({
    ...c,
    shown: c.runs > 0 ? c.rate : null,
    line1: c.runs > 0 ? `${c.entered}/${c.runs} · ${percent(c.rate)}` : 'no runs',
    line2: c.runs > 0 ? `[${percent(c.lo)}, ${percent(c.hi)}]` : '',
    dark: c.runs > 0 && c.rate > 0.55,
  }));
  const conditions = [...new Set(cells.map((c) => c.condition))];
  const attractors = [...new Set(cells.map((c) => c.attractor))];
  const cellW = Math.max(110, Math.min(150, Math.floor(FIGURE_WIDTH / Math.max(1, attractors.length))));
  const x = { field: 'attractor', type: 'nominal', sort: attractors, title: null, axis: { orient: 'top', labelAngle: 0, labelFontWeight: 600 } };
  const y = { field: 'condition', type: 'nominal', sort: conditions, title: null };
  return withConfig({
    title: { text: 'Attractor incidence per condition', subtitle: `share of analysed runs that entered, with its Wilson 95% interval · ${runsNote}` },
    data: { values },
    width: cellW * attractors.length,
    height: 44 * conditions.length,
    encoding: { x, y },
    layer: [
      {
        mark: { type: 'rect', stroke: 'white', strokeWidth: 2 },
        encoding: {
          color: { field: 'shown', type: 'quantitative', scale: { domain: [0, 1], range: ['#f7f7fb', '#3f007d'], interpolate: 'rgb' }, legend: { title: 'share entered', format: '.0%', orient: 'bottom', direction: 'horizontal', gradientLength: 240 } },
          tooltip: [{ field: 'condition' }, { field: 'attractor' }, { field: 'line1', title: 'entered' }, { field: 'line2', title: '95% CI' }],
        },
      },
      { mark: { type: 'text', dy: -7, fontSize: 12 }, encoding: { text: { field: 'line1' }, color: { condition: { test: 'datum.dark', value: 'white' }, value: '#222' } } },
      { mark: { type: 'text', dy: 9, fontSize: 11 }, encoding: { text: { field: 'line2' }, color: { condition: { test: 'datum.dark', value: '#eee' }, value: '#555' } } },
    ],
  });
}

/** One condition's Kaplan–Meier curve for one attractor. */
export interface SurvivalCurve {
  condition: string;
  /** Entered / analysed runs, for the legend. */
  entered: number;
  runs: number;
  median: number | null;
  points: readonly { turn: number; survival: number; lower: number; upper: number }[];
}

/**
 * One attractor's survival curves, one per condition, each with its 95% band, as steps over turns. Conditions
 * in which no run entered would all lie on 1.0 and hide each other: they are named under the figure
 * instead of drawn.
 */
export function survivalSpec(attractor: string, curves: readonly SurvivalCurve[]): { spec: TopLevelSpec; notDrawn: string[] } {
  const drawn = curves.filter((c) => c.entered > 0);
  const notDrawn = curves.filter((c) => c.entered === 0 && c.runs > 0).map((c) => `${c.condition} (0/${c.runs})`);
  const label = (c: SurvivalCurve) => `${c.condition} — ${c.entered}/${c.runs} entered, median onset ${c.median ?? 'not reached'}`;
  const values = drawn.flatMap((c) => [{ turn: 0, survival: 1, lower: 1, upper: 1 }, ...c.points].map((p) => ({ ...p, condition: label(c) })));
  const order = drawn.map(label);
  const colour = { field: 'condition', type: 'nominal', sort: order, title: 'condition', scale: { scheme: order.length > 10 ? 'tableau20' : 'tableau10' }, legend: { labelLimit: 900, symbolType: 'stroke', symbolSize: 400, symbolOpacity: 1, symbolStrokeWidth: 3 } };
  const x = { field: 'turn', type: 'quantitative', title: 'turn', axis: { tickMinStep: 1 } };
  return {
    notDrawn,
    spec: withConfig({
      title: { text: `${attractor}: share of runs not yet in the attractor`, subtitle: 'Kaplan–Meier estimate with Greenwood 95% band (log–log); runs that never entered are censored at their last turn' },
      data: { values },
      width: FIGURE_WIDTH,
      height: 280,
      layer: [
        // The line layer comes first so that the legend takes its symbol (a dashed stroke) from it.
        {
          mark: { type: 'line', interpolate: 'step-after', strokeWidth: 2.2 },
          encoding: {
            x,
            y: { field: 'survival', type: 'quantitative', scale: { domain: [0, 1] }, title: 'share not yet entered' },
            color: colour,
            strokeDash: { field: 'condition', type: 'nominal', sort: order, title: 'condition' },
          },
        },
        { mark: { type: 'area', opacity: 0.13, interpolate: 'step-after' }, encoding: { x, y: { field: 'lower', type: 'quantitative' }, y2: { field: 'upper' }, color: colour } },
      ],
    }),
  };
}

/** A projected turn, or a condition's centroid, in the trajectory scatter. */
export interface ScatterPoint {
  condition: string;
  x: number;
  y: number;
}

/**
 * The turns of every condition in the shared 2-D projection (small, faint), with each condition's end-state
 * centroid (large, outlined) on top.
 */
export function trajectorySpec(points: readonly ScatterPoint[], centroids: readonly ScatterPoint[], axes: { explained: [number, number]; note: string }): TopLevelSpec {
  const order = [...new Set([...centroids.map((c) => c.condition), ...points.map((p) => p.condition)])];
  const colour = { field: 'condition', type: 'nominal', sort: order, title: 'condition', scale: { scheme: order.length > 10 ? 'tableau20' : 'tableau10' }, legend: { labelLimit: 900, symbolOpacity: 1, symbolSize: 120 } };
  return withConfig({
    title: { text: 'Where conversations go in embedding space', subtitle: `turn embeddings projected on their first two principal components; large marks: each condition's end-state centroid · ${axes.note}` },
    width: FIGURE_WIDTH,
    height: 420,
    layer: [
      {
        data: { values: points },
        mark: { type: 'circle', size: 28, opacity: 0.55 },
        encoding: {
          x: { field: 'x', type: 'quantitative', title: `PC1 (${percent(axes.explained[0])} of variance)`, scale: { zero: false } },
          y: { field: 'y', type: 'quantitative', title: `PC2 (${percent(axes.explained[1])} of variance)`, scale: { zero: false } },
          color: colour,
        },
      },
      {
        data: { values: centroids },
        mark: { type: 'point', shape: 'diamond', size: 260, filled: true, stroke: '#111', strokeWidth: 1.5, opacity: 1 },
        encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' }, color: colour },
      },
    ],
  });
}

/** One point of a commitment curve. */
export interface CommitmentPoint {
  /** The series: attractor and perturbation. */
  series: string;
  atTurn: number;
  share: number;
  lo: number;
  hi: number;
  k: number;
  n: number;
}

/** Commitment curves: for each fork turn, the share of children that entered, with Wilson intervals. */
export function commitmentSpec(title: string, points: readonly CommitmentPoint[], threshold: number): TopLevelSpec {
  const order = [...new Set(points.map((p) => p.series))];
  const colour = { field: 'series', type: 'nominal', sort: order, title: 'attractor · perturbation', scale: { scheme: order.length > 10 ? 'tableau20' : 'tableau10' }, legend: { labelLimit: 900, symbolOpacity: 1 } };
  const x = { field: 'atTurn', type: 'quantitative', title: 'fork turn', scale: { zero: false, padding: 16 }, axis: { tickMinStep: 1 } };
  return withConfig({
    title: { text: title, subtitle: `share of forked children that entered after the fork turn, Wilson 95% intervals; dashed: ${threshold}` },
    data: { values: points.map((p) => ({ ...p, label: `${p.k}/${p.n}` })) },
    width: FIGURE_WIDTH,
    height: 260,
    layer: [
      { mark: { type: 'rule', strokeDash: [4, 4], color: '#888' }, encoding: { y: { datum: threshold } } },
      { mark: { type: 'errorbar', ticks: true }, encoding: { x, y: { field: 'lo', type: 'quantitative', scale: { domain: [0, 1] }, title: 'share of children that entered' }, y2: { field: 'hi' }, color: colour } },
      { mark: { type: 'line', point: true, strokeWidth: 2 }, encoding: { x, y: { field: 'share', type: 'quantitative' }, color: colour, tooltip: [{ field: 'series' }, { field: 'atTurn' }, { field: 'label', title: 'entered' }] } },
    ],
  });
}

/** One series of a line chart over turns. */
export interface LinePoint {
  series: string;
  turn: number;
  value: number;
}

/** Lines over turns, one per series (condition), with a legend below. */
export function lineSpec(title: string, subtitle: string, points: readonly LinePoint[], yTitle: string, yDomain?: [number, number]): TopLevelSpec {
  const order = [...new Set(points.map((p) => p.series))];
  return withConfig({
    title: { text: title, subtitle },
    data: { values: points },
    width: FIGURE_WIDTH,
    height: 240,
    mark: { type: 'line', strokeWidth: 2, point: { size: 18 } },
    encoding: {
      x: { field: 'turn', type: 'quantitative', title: 'turn', axis: { tickMinStep: 1 } },
      y: { field: 'value', type: 'quantitative', title: yTitle, ...(yDomain ? { scale: { domain: yDomain } } : {}) },
      color: { field: 'series', type: 'nominal', sort: order, title: 'condition', scale: { scheme: order.length > 10 ? 'tableau20' : 'tableau10' }, legend: { labelLimit: 900, symbolType: 'stroke', symbolOpacity: 1 } },
      strokeDash: { field: 'series', type: 'nominal', sort: order, title: 'condition' },
    },
  });
}

/** One cell of the runs × turns heatmap. */
export interface HeatCell {
  run: string;
  condition: string;
  turn: number;
  score: number;
}

/**
 * Runs × turns, shaded by an attractor score, one block of rows per condition (named at its left); each run's
 * onset marked with a black tick.
 */
export function heatmapSpec(title: string, cells: readonly HeatCell[], onsets: readonly { run: string; condition: string; turn: number }[], rows: readonly { run: string; condition: string }[], turns: number): TopLevelSpec {
  const rowH = rows.length > 60 ? 6 : 14;
  const conditions = [...new Set(rows.map((r) => r.condition))];
  const turnDomain = Array.from({ length: turns }, (_, i) => i + 1);
  const x = {
    field: 'turn',
    type: 'ordinal',
    title: 'turn',
    scale: { domain: turnDomain },
    axis: { labelAngle: 0, values: turnDomain.filter((t) => turns <= 30 || t % Math.ceil(turns / 20) === 1) },
  };
  const y = { field: 'run', type: 'nominal', title: null, sort: rows.map((r) => r.run), axis: rowH >= 12 ? { labelFontSize: 10, labelLimit: 300 } : { labels: false, ticks: false } };
  return withConfig({
    title: { text: title, subtitle: `${rows.length} runs × ${turns} turns, grouped by condition; darker = higher score; black tick = the turn it was entered` },
    data: { values: [...cells.map((c) => ({ ...c, kind: 'cell' })), ...onsets.map((o) => ({ ...o, kind: 'onset' }))] },
    facet: { row: { field: 'condition', type: 'nominal', sort: conditions, title: null, header: { labelAngle: 0, labelAlign: 'left', labelOrient: 'top', labelFontSize: 13, labelFontWeight: 600, labelLimit: 900 } } },
    spacing: 10,
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: FIGURE_WIDTH - 320,
      height: { step: rowH },
      layer: [
        {
          name: 'cells',
          transform: [{ filter: "datum.kind === 'cell'" }],
          mark: { type: 'rect' },
          encoding: { x, y, color: { field: 'score', type: 'quantitative', scale: { domain: [0, 1], range: ['#ffffff', '#a50f15'], interpolate: 'rgb' }, title: 'score', legend: { orient: 'right', direction: 'vertical', gradientLength: 100 } } },
        },
        {
          name: 'onsets',
          transform: [{ filter: "datum.kind === 'onset'" }],
          mark: { type: 'tick', color: 'black', thickness: 2.5, orient: 'vertical' },
          encoding: { x, y },
        },
      ],
    },
  });
}
