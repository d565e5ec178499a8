// @ts-check
// Attractor scores per turn (one line per attractor, onset markers) and embedding drift per turn,
// drawn as inline SVG built node by node.
import { attractorColour, clear, el, svg } from './dom.js';

/** @import { RunModel } from './run-model.js' */
/** @typedef {(value: number) => number} Scale a turn to x, or a value to y, in the chart's viewBox */

const W = 560;
const H = 160;
const PAD = { left: 34, right: 10, top: 10, bottom: 22 };

/**
 * Clear the chart and draw its background, grid lines and axis labels.
 * @param {SVGSVGElement} root
 * @param {number} maxTurn
 * @param {number} yMax
 * @param {string} yLabel
 * @returns {{ x: Scale, y: Scale }}
 */
function frame(root, maxTurn, yMax, yLabel) {
  clear(root);
  root.setAttribute('viewBox', `0 0 ${W} ${H}`);
  root.setAttribute('preserveAspectRatio', 'none');
  /** @type {Scale} */
  const x = (turn) => PAD.left + ((turn - 1) / Math.max(1, maxTurn - 1)) * (W - PAD.left - PAD.right);
  /** @type {Scale} */
  const y = (v) => H - PAD.bottom - (Math.min(Math.max(v, 0), yMax) / yMax) * (H - PAD.top - PAD.bottom);
  root.append(svg('rect', { x: PAD.left, y: PAD.top, width: W - PAD.left - PAD.right, height: H - PAD.top - PAD.bottom, class: 'plot-bg' }));
  for (const frac of [0, 0.5, 1]) {
    const v = frac * yMax;
    root.append(svg('line', { x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v), class: 'grid-line' }));
    root.append(svg('text', { x: PAD.left - 4, y: y(v) + 3, class: 'axis-label', 'text-anchor': 'end' }, v.toFixed(yMax < 2 ? 1 : 0)));
  }
  const step = Math.max(1, Math.ceil(maxTurn / 10));
  for (let t = 1; t <= maxTurn; t += step) {
    root.append(svg('text', { x: x(t), y: H - 6, class: 'axis-label', 'text-anchor': 'middle' }, t));
  }
  root.append(svg('title', {}, yLabel));
  return { x, y };
}

/**
 * A fork's copied turns, shaded, and a line where it departed from its parent.
 * @param {SVGSVGElement} root
 * @param {RunModel} model
 * @param {Scale} x
 */
function forkBand(root, model, x) {
  const atTurn = model.fork?.atTurn;
  // Beyond the turns drawn so far there is nothing to set apart yet.
  if (atTurn === undefined || x(atTurn) > W - PAD.right) return;
  const g = svg('g', { class: 'fork-band' });
  g.dataset.atTurn = String(atTurn);
  g.append(
    svg('rect', { x: PAD.left, y: PAD.top, width: Math.max(0, x(atTurn) - PAD.left), height: H - PAD.top - PAD.bottom, class: 'copied-band' }),
    svg('line', { x1: x(atTurn), x2: x(atTurn), y1: PAD.top, y2: H - PAD.bottom, class: 'fork-line' }),
    svg('text', { x: x(atTurn) - 3, y: PAD.top + 22, class: 'marker-label fork-label', 'text-anchor': 'end' }, `copied · forked at ${atTurn}`),
    svg('title', {}, `turns 1–${atTurn} copied from ${model.fork?.parentRunId ?? 'the parent'}`),
  );
  root.append(g);
}

/**
 * @param {[number, number][]} points [turn, value] pairs
 * @param {Scale} x
 * @param {Scale} y
 * @param {string} colour
 * @param {string} className
 */
function polyline(points, x, y, colour, className) {
  return svg('polyline', {
    points: points.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(' '),
    stroke: colour,
    class: className,
    fill: 'none',
  });
}

/**
 * Redraw the score chart of a model; `legend` gets one swatch per attractor.
 * @param {SVGSVGElement} root
 * @param {HTMLElement} legend
 * @param {RunModel} model
 */
export function drawScores(root, legend, model) {
  const names = new Set();
  for (const scores of model.scores.values()) for (const name of Object.keys(scores)) names.add(name);
  for (const onset of model.onsets) names.add(onset.attractor);
  const turns = [...model.scores.keys()];
  const maxTurn = Math.max(2, ...turns, ...model.onsets.map((o) => o.turn));
  let yMax = 1;
  for (const scores of model.scores.values()) for (const v of Object.values(scores)) if (typeof v === 'number' && v > yMax) yMax = v;
  const { x, y } = frame(root, maxTurn, yMax, 'attractor score by turn');
  forkBand(root, model, x);
  clear(legend);
  if (names.size === 0) {
    root.append(svg('text', { x: W / 2, y: H / 2, class: 'empty-label', 'text-anchor': 'middle' }, 'no analysis yet'));
    return;
  }
  for (const name of [...names].sort()) {
    const colour = attractorColour(name);
    /** @type {[number, number][]} */
    const points = [];
    for (const [t, s] of model.scores) {
      const v = s[name];
      if (typeof v === 'number') points.push([t, v]);
    }
    points.sort((a, b) => a[0] - b[0]);
    if (points.length > 0) {
      const line = polyline(points, x, y, colour, 'score-line');
      line.dataset.attractor = name;
      root.append(line);
    }
    legend.append(el('span', { className: 'legend-item' }, [el('span', { className: 'swatch', style: { background: colour } }), el('span', { text: name })]));
  }
  for (const onset of model.onsets) {
    const colour = attractorColour(onset.attractor);
    const g = svg('g', { class: `onset-marker ${onset.entered ? 'entered' : 'exited'}` });
    g.dataset.attractor = onset.attractor;
    g.dataset.turn = String(onset.turn);
    g.append(
      svg('line', { x1: x(onset.turn), x2: x(onset.turn), y1: PAD.top, y2: H - PAD.bottom, stroke: colour }),
      // Labels near the right edge go left of their line so they stay inside the plot.
      x(onset.turn) > W * 0.7
        ? svg('text', { x: x(onset.turn) - 3, y: PAD.top + 10, fill: colour, class: 'marker-label', 'text-anchor': 'end' }, `${onset.attractor} ${onset.entered ? '▶' : '◀'}`)
        : svg('text', { x: x(onset.turn) + 3, y: PAD.top + 10, fill: colour, class: 'marker-label' }, `${onset.entered ? '▶' : '◀'} ${onset.attractor}`),
      svg('title', {}, `${onset.attractor} ${onset.entered ? 'entered' : 'exited'} at turn ${onset.turn}`),
    );
    root.append(g);
  }
}

/**
 * Redraw the drift chart (features.drift of analysis.turn events).
 * @param {SVGSVGElement} root
 * @param {RunModel} model
 */
export function drawDrift(root, model) {
  const maxTurn = Math.max(2, ...model.drift.map(([t]) => t));
  const yMax = Math.max(1, ...model.drift.map(([, v]) => v));
  const { x, y } = frame(root, maxTurn, yMax, 'drift by turn');
  if (model.drift.length === 0) {
    root.append(svg('text', { x: W / 2, y: H / 2, class: 'empty-label', 'text-anchor': 'middle' }, 'no drift data'));
    return;
  }
  forkBand(root, model, x);
  root.append(polyline(model.drift, x, y, '#0e7490', 'drift-line'));
  for (const [t, v] of model.drift) root.append(svg('circle', { cx: x(t), cy: y(v), r: 2, fill: '#0e7490' }));
}
