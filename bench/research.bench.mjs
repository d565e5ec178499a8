// Research-statistics benchmarks: trajectories (PCA over turn embeddings), fork statistics, and the report's
// Vega-Lite figures rendered to SVG. Synthetic, deterministic inputs; figures are wall-clock ms on this machine
// (shared and noisy: compare ratios measured in one run, not numbers across runs).
import { trajectories } from '../dist/mining/trajectories.js';
import { forkStatistics } from '../dist/mining/fork-stats.js';
import { heatmapSpec, survivalSpec, toSvg } from '../dist/mining/report/figures.js';
import { kaplanMeier } from '../dist/mining/stats/kaplan-meier.js';

function rng(seed) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

function syntheticRuns(runs, turns, dims) {
  const rand = rng(5);
  const out = [];
  for (let r = 0; r < runs; r++) {
    const condition = `c${r % 6}`;
    const base = Float32Array.from({ length: dims }, () => rand() - 0.5);
    out.push({
      runId: `r${r}`,
      condition,
      scenario: 's',
      models: new Map([['a', `m${r % 3}`], ['b', `m${(r % 6) < 3 ? r % 3 : (r + 1) % 3}`]]),
      turns: Array.from({ length: turns }, (_, t) => ({ turn: t + 1, agentId: t % 2 ? 'b' : 'a', vector: Float32Array.from(base, (x) => x + (rand() - 0.5) * (t / turns)) })),
    });
  }
  return out;
}

const ms = (t0) => Math.round((performance.now() - t0) * 10) / 10;

export default async function () {
  const result = {};
  for (const [runs, turns] of [[60, 30], [240, 30], [240, 120]]) {
    const data = syntheticRuns(runs, turns, 512);
    const t0 = performance.now();
    const t = trajectories(data);
    result[`trajectories_${runs}x${turns}_ms`] = ms(t0);
    result[`trajectories_${runs}x${turns}_vectors`] = t.projection.vectors;
  }

  const rand = rng(9);
  const parents = Array.from({ length: 50 }, (_, i) => ({ runId: `p${i}`, condition: `c${i % 5}`, lastTurn: 40, episodes: new Map([['bliss', [{ enter: 10 + (i % 10) }]]]) }));
  const children = [];
  for (const p of parents) for (const at of [5, 10, 15, 20]) for (let k = 0; k < 20; k++) {
    const enters = rand() < at / 25;
    children.push({ runId: `${p.runId}-${at}-${k}`, parentRunId: p.runId, atTurn: at, perturbation: k % 2 ? 'resample' : 'inject:narrator:knock', lastTurn: 40, episodes: new Map(enters ? [['bliss', [{ enter: at + 2, ...(rand() < 0.3 ? { exit: at + 8 } : {}) }]]] : []) });
  }
  let t0 = performance.now();
  forkStatistics(parents, children);
  result.forkStats_4000children_ms = ms(t0);

  const curves = Array.from({ length: 8 }, (_, g) => {
    const obs = Array.from({ length: 30 }, (_, i) => (rand() < 0.6 ? { time: 3 + Math.floor(rand() * 40), event: true } : { time: 50, event: false }));
    const points = kaplanMeier(obs);
    return { condition: `condition ${g}`, entered: obs.filter((o) => o.event).length, runs: obs.length, median: null, points };
  });
  t0 = performance.now();
  await toSvg(survivalSpec('bliss', curves).spec);
  result.survivalFigure_first_ms = ms(t0);
  t0 = performance.now();
  await toSvg(survivalSpec('bliss', curves).spec);
  result.survivalFigure_warm_ms = ms(t0);

  const rows = Array.from({ length: 150 }, (_, i) => ({ run: `run-${i}`, condition: `condition ${i % 6}` }));
  const cells = rows.flatMap((r) => Array.from({ length: 50 }, (_, t) => ({ run: r.run, condition: r.condition, turn: t + 1, score: rand() })));
  t0 = performance.now();
  const svg = await toSvg(heatmapSpec('bliss score per turn', cells, [], rows, 50));
  result.heatmap_150x50_ms = ms(t0);
  result.heatmap_150x50_kB = Math.round(svg.length / 1024);
  return result;
}
