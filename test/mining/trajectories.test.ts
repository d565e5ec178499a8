import { describe, expect, it } from 'vitest';
import { principalComponents, trajectories, type TrajectoryRun, type TurnVector } from '../../src/mining/trajectories.js';

const DIMS = 6;
function vec(...xs: number[]): Float32Array {
  const v = new Float32Array(DIMS);
  xs.forEach((x, i) => (v[i] = x));
  return v;
}
const e = (i: number) => {
  const v = new Float32Array(DIMS);
  v[i] = 1;
  return v;
};
function run(runId: string, condition: string, models: Record<string, string>, vectors: Float32Array[], scenario = 's'): TrajectoryRun {
  const ids = Object.keys(models);
  const turns: TurnVector[] = vectors.map((vector, i) => ({ turn: i + 1, agentId: ids[i % ids.length]!, vector }));
  return { runId, condition, scenario, models: new Map(Object.entries(models)), turns };
}

describe('principalComponents', () => {
  it('finds the axis of largest spread first, with its share of the variance', () => {
    // Centred points: spread 3 along axis 2, spread 1 along axis 4, nothing elsewhere.
    const rows = [
      [0, 0, 3, 0, 1, 0],
      [0, 0, -3, 0, -1, 0],
      [0, 0, 3, 0, -1, 0],
      [0, 0, -3, 0, 1, 0],
    ].map((r) => Float64Array.from(r));
    const { components, variances, total } = principalComponents(rows, DIMS);
    expect(Math.abs(components[0]![2]!)).toBeCloseTo(1, 6);
    expect(Math.abs(components[1]![4]!)).toBeCloseTo(1, 6);
    expect(variances[0]! / total).toBeCloseTo(0.9, 6);
    expect(variances[1]! / total).toBeCloseTo(0.1, 6);
    // The sign is fixed: the largest coordinate is positive.
    expect(components[0]![2]!).toBeGreaterThan(0);
  });
});

describe('trajectories', () => {
  it('puts each condition where its runs end, and says how alike its seeds end up', () => {
    const same = [1, 2, 3].map((i) => run(`same${i}`, 'converges', { a: 'm:x', b: 'm:x' }, [e(0), vec(1, 1), e(1), e(1)]));
    const apart = [2, 3, 4].map((i) => run(`apart${i}`, 'scatters', { a: 'm:x', b: 'm:x' }, [e(0), e(0), e(i), e(i)]));
    const result = trajectories([...same, ...apart], { tail: 2 });
    expect(result.projection).toMatchObject({ method: 'pca', dims: DIMS, vectors: 24 });
    expect(result.projection.explainedVariance[0]).toBeGreaterThan(0);
    const [converges, scatters] = result.conditions;
    expect(converges!.condition).toBe('converges');
    expect(converges!.crossSeedSimilarity).toEqual({ mean: 1, min: 1, max: 1, pairs: 3 });
    expect(scatters!.crossSeedSimilarity).toEqual({ mean: 0, min: 0, max: 0, pairs: 3 });
    expect(converges!.points).toHaveLength(12);
    expect(converges!.play).toBe('self-play');
    expect(converges!.partnerPull).toEqual([]);
    // Centroids of conditions that end in different places are different points.
    expect(converges!.centroid).not.toEqual(scatters!.centroid);
  });

  it('measures drift from the opening turn by turn, over the runs that reached the turn', () => {
    const r1 = run('r1', 'c', { a: 'm' }, [e(0), vec(1, 1), e(1)]);
    const r2 = run('r2', 'c', { a: 'm' }, [e(0), e(0)]);
    const [c] = trajectories([r1, r2]).conditions;
    expect(c!.drift).toEqual([
      { turn: 1, mean: 0, n: 2 },
      { turn: 2, mean: Math.round(((1 - Math.SQRT1_2) / 2) * 10_000) / 10_000, n: 2 },
      { turn: 3, mean: 1, n: 1 },
    ]);
  });

  it('says how far each model moves toward its partner in mixed play', () => {
    const selfA = run('sa', 'A×A', { a: 'A', b: 'A' }, [e(2), e(0), e(0), e(0)]);
    const selfB = run('sb', 'B×B', { a: 'B', b: 'B' }, [e(2), e(1), e(1), e(1)]);
    // In the mixed run, model A's last two turns are e0 and e1: halfway; model B's are both e1: it stays home.
    const mixed = run('ab', 'A×B', { a: 'A', b: 'B' }, [e(2), e(1), e(0), e(1), e(1), e(1)]);
    const result = trajectories([selfA, selfB, mixed], { tail: 2 });
    const ab = result.conditions.find((c) => c.condition === 'A×B')!;
    expect(ab.play).toBe('mixed');
    expect(ab.models).toEqual(['A', 'B']);
    expect(ab.partnerPull).toEqual([
      { model: 'A', partner: 'B', mean: 0.5, n: 1 },
      { model: 'B', partner: 'A', mean: 0, n: 1 },
    ]);
  });

  it('gives no pull, with the reason, when a self-play reference is missing', () => {
    const selfA = run('sa', 'A×A', { a: 'A', b: 'A' }, [e(0), e(0)]);
    const mixed = run('ab', 'A×B', { a: 'A', b: 'B' }, [e(0), e(1)]);
    const ab = trajectories([selfA, mixed]).conditions.find((c) => c.condition === 'A×B')!;
    expect(ab.partnerPull.map((p) => [p.model, p.mean, p.reason])).toEqual([
      ['A', null, 'no self-play runs of B in scenario s'],
      ['B', null, 'no self-play runs of B in scenario s'],
    ]);
  });

  it('thins points evenly to maxPoints and leaves runs without vectors out', () => {
    const long = run('long', 'c', { a: 'm' }, Array.from({ length: 100 }, (_, i) => vec(Math.cos(i / 10), Math.sin(i / 10))));
    const empty = run('empty', 'c', { a: 'm' }, []);
    const [c] = trajectories([long, empty], { maxPoints: 10 }).conditions;
    expect(c!.runs).toBe(1);
    expect(c!.points).toHaveLength(10);
    expect(c!.points.map((p) => p.turn)).toEqual([1, 11, 21, 31, 41, 51, 61, 71, 81, 91]);
  });

  it('refuses vectors of different lengths: one projection needs one embedding model', () => {
    const a = run('a', 'c', { a: 'm' }, [e(0)]);
    const b: TrajectoryRun = { ...run('b', 'c', { a: 'm' }, []), turns: [{ turn: 1, agentId: 'a', vector: new Float32Array(3) }] };
    expect(() => trajectories([a, b])).toThrow(/3 dimensions, others have 6/);
  });
});
