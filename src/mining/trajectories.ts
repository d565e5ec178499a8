import { decodeVector } from '../analysis/vectors.js';
import type { ArenaEvent, RunStarted } from '../runlog/events.js';
import { readLogBytes, scanEvents } from './scan-log.js';

/**
 * Where conversations go in embedding space, measured the way the self-play literature measures it
 * (Ko & Geiping; Maiti et al.): a shared 2-D projection of every turn's embedding, each condition's end
 * region, how alike runs of one condition end up, how far a model moves toward its partner in mixed play,
 * and drift from the opening turn by turn.
 *
 * Every vector is scaled to unit length first, so a long turn weighs no more than a short one, and
 * similarities are cosines. The pure part (`trajectories`) takes vectors already read; `readTurnVectors`
 * reads them from a log's `embedding` events.
 */

/** One embedded turn of a run. */
export interface TurnVector {
  turn: number;
  agentId: string;
  vector: Float32Array;
}

/** One run as trajectories need it. */
export interface TrajectoryRun {
  runId: string;
  /** The condition (group) the run belongs to. */
  condition: string;
  /** The scenario, so that partner pull compares a mixed run with self-play of the same scenario. */
  scenario: string;
  /** Agent id → the model that speaks for it (backend:model). */
  models: ReadonlyMap<string, string>;
  /** Turns in turn order. */
  turns: readonly TurnVector[];
}

export interface TrajectoryOptions {
  /** Turns at the end of a run that make its end state (default 5). */
  tail?: number;
  /** At most this many projected points per condition in the output, evenly thinned (default 2,000). */
  maxPoints?: number;
}

export interface ProjectedPoint {
  runId: string;
  turn: number;
  agentId: string;
  x: number;
  y: number;
}

export interface ConditionTrajectory {
  condition: string;
  runs: number;
  turns: number;
  /** 'self-play' when every agent of every run is the same model, 'mixed' otherwise. */
  play: 'self-play' | 'mixed';
  /** The models speaking in this condition, sorted. */
  models: string[];
  /** Projected turns (thinned to maxPoints, evenly over the condition's turns). */
  points: ProjectedPoint[];
  /** Mean of the runs' end states, projected; its full vector is what partner pull measures against. */
  centroid: { x: number; y: number };
  /**
   * Mean pairwise cosine between the end states of the condition's runs (1: every seed ends in the same
   * place). null with fewer than two runs.
   */
  crossSeedSimilarity: { mean: number; min: number; max: number; pairs: number } | null;
  /** Per turn: mean cosine distance (1 − cos) between the turn and its run's opening turn, over the runs that reached it. */
  drift: { turn: number; mean: number; n: number }[];
  /**
   * Mixed play only: for each model, how far its end state moved from its own self-play region toward its
   * partner's, as the position of its end state projected on the line between the two self-play centroids
   * of the same scenario (0: stays in its own region, 1: in its partner's). null with the reason when a
   * self-play reference is missing.
   */
  partnerPull: { model: string; partner: string; mean: number | null; n: number; reason?: string }[];
}

export interface TrajectoryResult {
  /** The projection: principal components of all turns (centred on their mean), with their share of the variance. */
  projection: { method: 'pca'; dims: number; explainedVariance: [number, number]; vectors: number };
  tail: number;
  conditions: ConditionTrajectory[];
}

function unit(v: Float32Array): Float64Array {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += v[i]! * v[i]!;
  n = Math.sqrt(n) || 1;
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i]! / n;
  return out;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function cos(a: Float64Array, b: Float64Array): number {
  const d = Math.sqrt(dot(a, a) * dot(b, b));
  return d === 0 ? 0 : dot(a, b) / d;
}

function mean(vectors: readonly Float64Array[], dims: number): Float64Array {
  const out = new Float64Array(dims);
  for (const v of vectors) for (let i = 0; i < dims; i++) out[i]! += v[i]!;
  if (vectors.length > 0) for (let i = 0; i < dims; i++) out[i]! /= vectors.length;
  return out;
}

/** Eigenvalues and eigenvectors (columns) of a small symmetric matrix, by cyclic Jacobi rotations. */
function symmetricEigen(a: number[][]): { values: number[]; vectors: number[][] } {
  const n = a.length;
  const m = a.map((row) => [...row]);
  const v: number[][] = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) off += m[i]![j]! ** 2;
    if (off < 1e-24) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        if (Math.abs(m[p]![q]!) < 1e-300) continue;
        const theta = (m[q]![q]! - m[p]![p]!) / (2 * m[p]![q]!);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const mkp = m[k]![p]!;
          const mkq = m[k]![q]!;
          m[k]![p] = c * mkp - s * mkq;
          m[k]![q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < n; k++) {
          const mpk = m[p]![k]!;
          const mqk = m[q]![k]!;
          m[p]![k] = c * mpk - s * mqk;
          m[q]![k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k]![p]!;
          const vkq = v[k]![q]!;
          v[k]![p] = c * vkp - s * vkq;
          v[k]![q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return { values: m.map((row, i) => row[i]!), vectors: v };
}

/** Orthonormalise the vectors in place (modified Gram–Schmidt); a vector that vanishes is replaced by zeros. */
function orthonormalise(vs: Float64Array[]): void {
  for (let j = 0; j < vs.length; j++) {
    const v = vs[j]!;
    for (let i = 0; i < j; i++) {
      const p = dot(v, vs[i]!);
      for (let d = 0; d < v.length; d++) v[d]! -= p * vs[i]![d]!;
    }
    const norm = Math.sqrt(dot(v, v));
    for (let d = 0; d < v.length; d++) v[d] = norm > 1e-12 ? v[d]! / norm : 0;
  }
}

/**
 * The top `k` principal components of the rows (already centred), by block (subspace) iteration on the
 * covariance with a block of k + 6 vectors (at most 12 passes, fewer once the leading values settle) and a Rayleigh–Ritz step: each pass costs one sweep over the rows,
 * and the error falls with the ratio of the (k + 7)-th to the k-th eigenvalue, not of the 2nd to the 1st as
 * plain power iteration's does. The start block is fixed and each component's sign is set so that its largest
 * coordinate is positive: the same vectors give the same picture every time.
 */
export function principalComponents(rows: readonly Float64Array[], dims: number, k = 2): { components: Float64Array[]; variances: number[]; total: number } {
  const n = Math.max(1, rows.length);
  let total = 0;
  for (const r of rows) total += dot(r, r);
  total /= n;
  const width = Math.min(dims, k + 6);
  /** C·V for the covariance C = XᵀX / n, in one pass over the rows. */
  const covTimes = (vs: readonly Float64Array[]): Float64Array[] => {
    const out = vs.map(() => new Float64Array(dims));
    const proj = new Float64Array(vs.length);
    for (const r of rows) {
      for (let j = 0; j < vs.length; j++) proj[j] = dot(r, vs[j]!);
      for (let j = 0; j < vs.length; j++) {
        const p = proj[j]!;
        if (p === 0) continue;
        const o = out[j]!;
        for (let i = 0; i < dims; i++) o[i]! += p * r[i]!;
      }
    }
    for (const o of out) for (let i = 0; i < dims; i++) o[i]! /= n;
    return out;
  };
  let block: Float64Array[] = Array.from({ length: width }, (_, j) => Float64Array.from({ length: dims }, (_, i) => (((i + 1) * 7919 + (j + 1) * 104729) % 1009) / 1009 - 0.5));
  orthonormalise(block);
  let previous: number[] = [];
  for (let iter = 0; iter < 12; iter++) {
    block = covTimes(block);
    // Ritz values: the norms after one multiplication track the leading eigenvalues.
    const norms = block.slice(0, k).map((v) => Math.sqrt(dot(v, v)));
    orthonormalise(block);
    const settled = previous.length === k && norms.every((x, i) => Math.abs(x - previous[i]!) <= 1e-6 * Math.max(1e-12, x));
    previous = norms;
    if (settled && iter >= 2) break;
  }
  // Rayleigh–Ritz: the covariance seen in the block's span, diagonalised.
  const cb = covTimes(block);
  const h = block.map((u) => cb.map((w) => dot(u, w)));
  const { values, vectors } = symmetricEigen(h);
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0]).slice(0, k);
  const components = order.map(([, col]) => {
    const v = new Float64Array(dims);
    block.forEach((u, j) => {
      const w = vectors[j]![col]!;
      for (let i = 0; i < dims; i++) v[i]! += w * u[i]!;
    });
    let largest = 0;
    for (let i = 0; i < dims; i++) if (Math.abs(v[i]!) > Math.abs(v[largest]!)) largest = i;
    if (v[largest]! < 0) for (let i = 0; i < dims; i++) v[i] = -v[i]!;
    return v;
  });
  return { components, variances: order.map(([v]) => Math.max(0, v)), total };
}

const round = (x: number, places = 4) => {
  const f = 10 ** places;
  return Math.round(x * f) / f;
};

/** The play of a run: every agent the same model, or not. */
function isSelfPlay(models: ReadonlyMap<string, string>): boolean {
  return new Set(models.values()).size <= 1;
}

/**
 * Trajectories of the runs, grouped by their `condition`. Runs without embedded turns are left out (the
 * caller says how many). Throws when the runs' vectors differ in length: one projection needs one space.
 */
export function trajectories(runs: readonly TrajectoryRun[], options: TrajectoryOptions = {}): TrajectoryResult {
  const tail = Math.max(1, options.tail ?? 5);
  const maxPoints = Math.max(1, options.maxPoints ?? 2000);
  const used = runs.filter((r) => r.turns.length > 0);
  const dims = used[0]?.turns[0]?.vector.length ?? 0;
  for (const r of used) {
    for (const t of r.turns) {
      if (t.vector.length !== dims) {
        throw new Error(`run ${r.runId} turn ${t.turn}: embedding of ${t.vector.length} dimensions, others have ${dims}: one projection needs one embedding model`);
      }
    }
  }
  const units = new Map<TrajectoryRun, Float64Array[]>(used.map((r) => [r, r.turns.map((t) => unit(t.vector))]));
  const all = [...units.values()].flat();
  const centre = mean(all, dims);
  const centred = all.map((v) => {
    const c = new Float64Array(dims);
    for (let i = 0; i < dims; i++) c[i] = v[i]! - centre[i]!;
    return c;
  });
  const pca = principalComponents(centred, dims);
  const [pc1, pc2] = pca.components as [Float64Array, Float64Array];
  const project = (v: Float64Array) => {
    let x = 0;
    let y = 0;
    for (let i = 0; i < dims; i++) {
      const c = v[i]! - centre[i]!;
      x += c * pc1[i]!;
      y += c * pc2[i]!;
    }
    return { x: round(x), y: round(y) };
  };

  /** A run's end state: the mean of its last `tail` turns, optionally only those of one agent. */
  const endState = (r: TrajectoryRun, agentIds?: ReadonlySet<string>): Float64Array | undefined => {
    const vs = units.get(r)!;
    const picked: Float64Array[] = [];
    for (let i = r.turns.length - 1; i >= 0 && picked.length < tail; i--) {
      if (!agentIds || agentIds.has(r.turns[i]!.agentId)) picked.push(vs[i]!);
    }
    return picked.length > 0 ? mean(picked, dims) : undefined;
  };

  const byCondition = new Map<string, TrajectoryRun[]>();
  for (const r of used) {
    const list = byCondition.get(r.condition) ?? [];
    list.push(r);
    byCondition.set(r.condition, list);
  }

  // Self-play regions: (scenario, model) → mean end state of the self-play runs of that model in that scenario.
  const selfPlayEnds = new Map<string, Float64Array[]>();
  for (const r of used) {
    if (!isSelfPlay(r.models)) continue;
    const model = [...r.models.values()][0];
    const end = endState(r);
    if (model === undefined || !end) continue;
    const key = JSON.stringify([r.scenario, model]);
    selfPlayEnds.set(key, [...(selfPlayEnds.get(key) ?? []), end]);
  }
  const selfRegion = new Map([...selfPlayEnds].map(([k, ends]) => [k, mean(ends, dims)]));

  const conditions: ConditionTrajectory[] = [];
  for (const [condition, list] of [...byCondition].sort(([a], [b]) => a.localeCompare(b))) {
    const models = [...new Set(list.flatMap((r) => [...r.models.values()]))].sort();
    const play = list.every((r) => isSelfPlay(r.models)) ? 'self-play' : 'mixed';
    const totalTurns = list.reduce((n, r) => n + r.turns.length, 0);
    const step = Math.max(1, totalTurns / maxPoints);
    const points: ProjectedPoint[] = [];
    let k = 0;
    let next = 0;
    for (const r of list) {
      const vs = units.get(r)!;
      r.turns.forEach((t, i) => {
        if (k++ >= next) {
          next += step;
          points.push({ runId: r.runId, turn: t.turn, agentId: t.agentId, ...project(vs[i]!) });
        }
      });
    }
    const ends = list.map((r) => endState(r)).filter((v): v is Float64Array => v !== undefined);
    const centroid = project(mean(ends, dims));

    let crossSeedSimilarity: ConditionTrajectory['crossSeedSimilarity'] = null;
    if (ends.length >= 2) {
      let sum = 0;
      let min = Infinity;
      let max = -Infinity;
      let pairs = 0;
      for (let i = 0; i < ends.length; i++) {
        for (let j = i + 1; j < ends.length; j++) {
          const c = cos(ends[i]!, ends[j]!);
          sum += c;
          min = Math.min(min, c);
          max = Math.max(max, c);
          pairs++;
        }
      }
      crossSeedSimilarity = { mean: round(sum / pairs), min: round(min), max: round(max), pairs };
    }

    const driftSum = new Map<number, { sum: number; n: number }>();
    for (const r of list) {
      const vs = units.get(r)!;
      const opening = vs[0]!;
      r.turns.forEach((t, i) => {
        const d = driftSum.get(t.turn) ?? { sum: 0, n: 0 };
        d.sum += 1 - cos(vs[i]!, opening);
        d.n++;
        driftSum.set(t.turn, d);
      });
    }
    const drift = [...driftSum].sort(([a], [b]) => a - b).map(([turn, d]) => ({ turn, mean: round(d.sum / d.n), n: d.n }));

    const partnerPull: ConditionTrajectory['partnerPull'] = [];
    if (play === 'mixed') {
      const pulls = new Map<string, { partner: string; values: number[]; reason?: string }>();
      for (const r of list) {
        const distinct = [...new Set(r.models.values())];
        if (distinct.length !== 2) continue;
        for (const model of distinct) {
          const partner = distinct.find((m) => m !== model)!;
          const key = JSON.stringify([model, partner]);
          const entry = pulls.get(key) ?? { partner, values: [] };
          pulls.set(key, entry);
          const own = selfRegion.get(JSON.stringify([r.scenario, model]));
          const theirs = selfRegion.get(JSON.stringify([r.scenario, partner]));
          if (!own || !theirs) {
            entry.reason = `no self-play runs of ${!own ? model : partner} in scenario ${r.scenario}`;
            continue;
          }
          const ids = new Set([...r.models].filter(([, m]) => m === model).map(([id]) => id));
          const x = endState(r, ids);
          if (!x) continue;
          const line = new Float64Array(dims);
          const from = new Float64Array(dims);
          for (let i = 0; i < dims; i++) {
            line[i] = theirs[i]! - own[i]!;
            from[i] = x[i]! - own[i]!;
          }
          const len2 = dot(line, line);
          if (len2 < 1e-12) {
            entry.reason = `the self-play regions of ${model} and ${partner} coincide`;
            continue;
          }
          entry.values.push(dot(from, line) / len2);
        }
      }
      for (const [key, p] of [...pulls].sort(([a], [b]) => a.localeCompare(b))) {
        const [model] = JSON.parse(key) as [string, string];
        const m = p.values.length > 0 ? round(p.values.reduce((a, b) => a + b, 0) / p.values.length) : null;
        partnerPull.push({ model, partner: p.partner, mean: m, n: p.values.length, ...(m === null && p.reason ? { reason: p.reason } : {}) });
      }
    }

    conditions.push({ condition, runs: list.length, turns: totalTurns, play, models, points, centroid, crossSeedSimilarity, drift, partnerPull });
  }

  const explained = (i: number) => (pca.total > 0 ? round((pca.variances[i] ?? 0) / pca.total) : 0);
  return {
    projection: { method: 'pca', dims, explainedVariance: [explained(0), explained(1)], vectors: all.length },
    tail,
    conditions,
  };
}

/** A run's embedded turns as its log holds them. */
export interface RunVectors {
  file: string;
  started: RunStarted | undefined;
  /** Embedding model → turns embedded with it, in turn order (the newest vector of a turn counts). */
  byModel: Map<string, TurnVector[]>;
  problems: string[];
}

/** Read the `embedding` events of one log (and its run.started), skipping every other line unparsed. */
export function readTurnVectors(file: string): RunVectors {
  const out: RunVectors = { file, started: undefined, byModel: new Map(), problems: [] };
  const bytes = readLogBytes(file, (line) => out.problems.push(line));
  if (!bytes) return out;
  const latest = new Map<string, Map<number, TurnVector>>();
  scanEvents(
    bytes,
    file,
    (type) => type !== 'embedding' && type !== 'run.started',
    (e: ArenaEvent) => {
      if (e.type === 'run.started') out.started ??= e;
      else if (e.type === 'embedding') {
        const turns = latest.get(e.model) ?? new Map<number, TurnVector>();
        turns.set(e.turn, { turn: e.turn, agentId: e.agentId, vector: decodeVector(e.vector) });
        latest.set(e.model, turns);
      }
    },
    out.problems,
  );
  for (const [model, turns] of latest) out.byModel.set(model, [...turns.values()].sort((a, b) => a.turn - b.turn));
  return out;
}
