import { grid } from './format-stats.js';
import type { TrajectoryReading } from './gather-trajectories.js';

const f = (x: number | null | undefined, d = 3) => (x === null || x === undefined ? '–' : x.toFixed(d));

/**
 * One row per condition: the figures `stats --trajectories` prints and the report tabulates (partner pull:
 * where a model's end state lies between its own self-play centroid, 0, and its partner's, 1).
 */
export function trajectoryTable(t: TrajectoryReading): { head: string[]; rows: string[][] } {
  return {
    head: ['condition', 'play', 'runs', 'turns', 'end centroid (PC1, PC2)', 'cross-seed similarity [min, max] (pairs)', 'drift at the last turn', 'partner pull (0 own, 1 partner)'],
    rows: t.conditions.map((c) => {
      const last = c.drift.at(-1);
      return [
        c.condition,
        c.play,
        String(c.runs),
        String(c.turns),
        `${f(c.centroid.x)}, ${f(c.centroid.y)}`,
        c.crossSeedSimilarity ? `${f(c.crossSeedSimilarity.mean)} [${f(c.crossSeedSimilarity.min)}, ${f(c.crossSeedSimilarity.max)}] (${c.crossSeedSimilarity.pairs})` : '– (one run)',
        last ? `${f(last.mean)} at turn ${last.turn} (n ${last.n})` : '–',
        c.partnerPull.length ? c.partnerPull.map((p) => `${p.model} → ${p.partner}: ${p.mean === null ? `– (${p.reason ?? 'no run'})` : f(p.mean)} (n ${p.n})`).join('; ') : '–',
      ];
    }),
  };
}

/** `arena stats --trajectories` as a terminal table or Markdown (the points themselves are in --json only). */
export function formatTrajectories(t: TrajectoryReading, md: boolean): string {
  const lines: string[] = [];
  lines.push(
    `trajectories: ${t.projection.vectors} embedded turns (${t.embeddingModel}, ${t.projection.dims} dimensions) of ${t.runsRead - t.runsWithout} runs${t.runsWithout ? ` (${t.runsWithout} runs without embeddings left out)` : ''}; projection: PCA, PC1 ${f(t.projection.explainedVariance[0] * 100, 1)}% and PC2 ${f(t.projection.explainedVariance[1] * 100, 1)}% of the variance; a run's end state is the mean of its last ${t.tail} turns`,
    '',
  );
  const { head, rows } = trajectoryTable(t);
  lines.push(grid(head, rows, md));
  return `${lines.join('\n')}\n`;
}
