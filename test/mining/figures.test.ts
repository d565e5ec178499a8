import { describe, expect, it } from 'vitest';
import { commitmentSpec, incidenceMatrixSpec, survivalSpec, toSvg, trajectorySpec } from '../../src/mining/report/figures.js';
import { kaplanMeier } from '../../src/mining/stats/kaplan-meier.js';

const curve = (condition: string, entered: number[], censored: number[]) => {
  const points = kaplanMeier([...entered.map((time) => ({ time, event: true })), ...censored.map((time) => ({ time, event: false }))]);
  return { condition, entered: entered.length, runs: entered.length + censored.length, median: null, points };
};

describe('report figures (Vega-Lite, rendered offline to SVG)', () => {
  it('draws survival curves only for conditions where some run entered, and names the others', async () => {
    const { spec, notDrawn } = survivalSpec('spiritual_bliss', [curve('A × A', [3, 5, 9], [20]), curve('B × B', [], [20, 20]), curve('A × B', [7], [20, 20])]);
    expect(notDrawn).toEqual(['B × B (0/2)']);
    const svg = await toSvg(spec);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('spiritual_bliss: share of runs not yet in the attractor');
    expect(svg).toContain('A × A — 3/4 entered, median onset not reached');
    expect(svg).toContain('A × B — 1/3 entered');
    expect(svg).not.toContain('B × B');
    // Curves and their bands are drawn.
    expect(svg).toContain('mark-line');
    expect(svg).toContain('mark-area');
  });

  it('labels every incidence cell with its count and interval, and a cell without runs as such', async () => {
    const spec = incidenceMatrixSpec(
      [
        { condition: 'A', attractor: 'bliss', entered: 3, runs: 6, rate: 0.5, lo: 0.188, hi: 0.812 },
        { condition: 'B', attractor: 'bliss', entered: 0, runs: 0, rate: 0, lo: 0, hi: 1 },
      ],
      '6 runs',
    );
    const svg = await toSvg(spec);
    expect(svg).toContain('3/6 · 50%');
    expect(svg).toContain('[18.8%, 81.2%]');
    expect(svg).toContain('no runs');
    expect(svg).not.toContain('0/0');
  });

  it('renders the trajectory scatter and commitment curves with their axis titles', async () => {
    const svg = await toSvg(trajectorySpec([{ condition: 'A', x: 0.1, y: 0.2 }, { condition: 'B', x: -0.1, y: 0 }], [{ condition: 'A', x: 0.1, y: 0.2 }], { explained: [0.42, 0.1], note: '2 turns' }));
    expect(svg).toContain('PC1 (42% of variance)');
    expect(svg).toContain('PC2 (10% of variance)');
    const commit = await toSvg(commitmentSpec('Commitment of run X', [{ series: 'bliss · none', atTurn: 4, share: 0.5, lo: 0.2, hi: 0.8, k: 4, n: 8 }], 0.9));
    expect(commit).toContain('Commitment of run X');
    expect(commit).toContain('fork turn');
  });
});
