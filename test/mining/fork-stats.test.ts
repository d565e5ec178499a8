import { describe, expect, it } from 'vitest';
import { EpisodeFolder, forkStatistics, inAfter, inAt, type Episode, type ForkChild, type ForkParent } from '../../src/mining/fork-stats.js';
import { wilson } from '../../src/stats/wilson.js';

const eps = (a: Record<string, Episode[]>) => new Map(Object.entries(a));
const parent = (runId: string, condition: string, episodes: Record<string, Episode[]>, lastTurn = 30): ForkParent => ({ runId, condition, lastTurn, episodes: eps(episodes) });
let n = 0;
const child = (parentRunId: string, atTurn: number, episodes: Record<string, Episode[]>, perturbation = 'resample', lastTurn = 30): ForkChild => ({
  runId: `c${++n}`,
  parentRunId,
  atTurn,
  perturbation,
  lastTurn,
  episodes: eps(episodes),
});
const r4 = (x: number) => Math.round(x * 10_000) / 10_000;

describe('inAt / inAfter', () => {
  it('reads a stay as [enter, exit)', () => {
    const e = [{ enter: 5, exit: 8 }, { enter: 12 }];
    expect([4, 5, 7, 8, 11, 12, 40].map((t) => inAt(e, t))).toEqual([false, true, true, false, false, true, true]);
    expect(inAfter([{ enter: 3, exit: 6 }], 5, 20)).toBe(false); // left at 6: not in after turn 5
    expect(inAfter([{ enter: 3, exit: 7 }], 5, 20)).toBe(true); // still in at turn 6
    expect(inAfter([{ enter: 15 }], 5, 14)).toBe(false); // entered after the run's last turn: impossible, never counted
    expect(inAfter([{ enter: 15 }], 5, 15)).toBe(true);
  });
});

describe('forkStatistics', () => {
  it('draws the commitment curve with Wilson intervals and finds the turn from which it stays above the threshold', () => {
    const p = parent('P', 'blissy', { bliss: [{ enter: 14 }] });
    const children = [
      // forked at 4: 1 of 4 enter bliss
      child('P', 4, { bliss: [{ enter: 20 }] }), child('P', 4, {}), child('P', 4, {}), child('P', 4, {}),
      // forked at 8: 4 of 4
      ...[0, 1, 2, 3].map(() => child('P', 8, { bliss: [{ enter: 16 }] })),
      // forked at 12: 3 of 4 — it drops again, so commitment starts later
      child('P', 12, { bliss: [{ enter: 13 }] }), child('P', 12, { bliss: [{ enter: 18 }] }), child('P', 12, { bliss: [{ enter: 25 }] }), child('P', 12, {}),
      // forked at 16 (parent already in bliss since 14): all stay
      ...[0, 1, 2].map(() => child('P', 16, { bliss: [{ enter: 14 }] })),
    ];
    const stats = forkStatistics([p], children);
    expect(stats.attractors).toEqual(['bliss']);
    const [curve] = stats.parents[0]!.curves;
    expect(curve!.perturbation).toBe('resample');
    expect(curve!.points.map((q) => [q.atTurn, q.k, q.n, q.share, q.parentInAt])).toEqual([
      [4, 1, 4, 0.25, false],
      [8, 4, 4, 1, false],
      [12, 3, 4, 0.75, false],
      [16, 3, 3, 1, true],
    ]);
    expect(curve!.points[0]!.ci).toEqual(wilson(1, 4).map(r4));
    expect(curve!.committedFrom).toBe(16);
    expect(stats.conditions).toEqual([expect.objectContaining({ condition: 'blissy', parents: 1, children: 15 })]);
  });

  it('says null when the curve never commits', () => {
    const p = parent('P', 'c', { bliss: [{ enter: 10 }] });
    const stats = forkStatistics([p], [child('P', 5, { bliss: [{ enter: 9 }] }), child('P', 5, {})]);
    expect(stats.parents[0]!.curves[0]!.committedFrom).toBeNull();
  });

  it('measures persistence K turns after a perturbation and recovery at the end, only over children in the attractor at the fork', () => {
    const p = parent('P', 'c', { bliss: [{ enter: 10 }] });
    const knock = 'inject: a knock at the door';
    const children = [
      child('P', 16, { bliss: [{ enter: 10 }] }, knock), // stays
      child('P', 16, { bliss: [{ enter: 10, exit: 18 }] }, knock), // leaves at 18, never returns: recovered
      child('P', 16, { bliss: [{ enter: 10, exit: 18 }, { enter: 25 }] }, knock), // leaves, comes back: in at 21? no; not recovered
      child('P', 16, { bliss: [{ enter: 10, exit: 17 }] }, knock, 19), // ran only to 19 (< 16+5): left out of both shares
      child('P', 16, { bliss: [{ enter: 10 }] }), // a plain resample, reported apart
    ];
    const stats = forkStatistics([p], children, { persistenceTurns: 5 });
    const byPert = new Map(stats.parents[0]!.persistence.map((x) => [x.perturbation, x]));
    const perturbed = byPert.get(knock)!;
    expect(perturbed.inAtFork).toBe(4);
    expect([perturbed.persistence.k, perturbed.persistence.n]).toEqual([1, 3]);
    expect([perturbed.recovery.k, perturbed.recovery.n]).toEqual([1, 3]);
    expect(perturbed.recovery.ci).toEqual(wilson(1, 3).map(r4));
    expect(byPert.get('resample')!.persistence).toMatchObject({ k: 1, n: 1, share: 1 });
    // Curves are given per perturbation, resamples first.
    expect(stats.parents[0]!.curves.map((c) => c.perturbation)).toEqual(['resample', knock]);
  });

  it('pools children per condition across parents and counts children of unknown parents apart', () => {
    const parents = [parent('A', 'x', { bliss: [{ enter: 5 }] }), parent('B', 'x', {}), parent('C', 'y', {})];
    const children = [child('A', 6, { bliss: [{ enter: 5 }] }), child('B', 6, {}), child('C', 6, {}), child('ghost', 6, {})];
    const stats = forkStatistics(parents, children, { attractors: ['bliss', 'wedding'] });
    expect(stats.orphans).toBe(1);
    const x = stats.conditions.find((c) => c.condition === 'x')!;
    expect(x.parents).toBe(2);
    const bliss = x.curves.find((c) => c.attractor === 'bliss')!;
    expect(bliss.points[0]).toMatchObject({ atTurn: 6, k: 1, n: 2, share: 0.5, parentInAt: 0.5 });
    // An attractor nobody entered still gets its (flat zero) curve when asked for.
    expect(x.curves.find((c) => c.attractor === 'wedding')!.points[0]).toMatchObject({ k: 0, n: 2, share: 0 });
  });
});

describe('EpisodeFolder', () => {
  it('folds entered/exited events into stays, ignoring a repeated entry and an exit without entry', () => {
    const f = new EpisodeFolder();
    for (const e of [
      { type: 'attractor.exited', attractor: 'bliss', turn: 2 },
      { type: 'turn.completed', turn: 1 },
      { type: 'attractor.entered', attractor: 'bliss', turn: 4 },
      { type: 'attractor.entered', attractor: 'bliss', turn: 5 },
      { type: 'attractor.exited', attractor: 'bliss', turn: 9 },
      { type: 'attractor.entered', attractor: 'bliss', turn: 12 },
      { type: 'turn.completed', turn: 14 },
    ]) f.add(e);
    expect(f.episodes.get('bliss')).toEqual([{ enter: 4, exit: 9 }, { enter: 12 }]);
    expect(f.lastTurn).toBe(14);
  });
});
