import { grid } from './format-stats.js';
import type { TrajectoryReading } from './gather-trajectories.js';

const f = (x: number | null | undefined, d = 3) => (x === null || x === undefined ? '–' : x.toFixed(d));

/** `arena stats --trajectories` as a terminal table or Markdown (the points themselves are in --json only). */
export function formatTrajectories(t: TrajectoryReading, md: boolean): string {
  const lines: string[] = [];
  lines.push(
    `trajectories: ${t.projection.vectors} embedded turns (${t.embeddingModel}, ${t.projection.dims} dimensions) of ${t.runsRead - t.runsWithout} runs${t.runsWithout ? ` (${t.runsWithout} runs without embeddings left out)` : ''}; projection: PCA, PC1 ${f(t.projection.explainedVariance[0] * 100, 1)}% and PC2 ${f(t.projection.explainedVariance[1] * 100, 1)}% of the variance; a run's end state is the mean of its last ${t.tail} turns`,
    '',
  );
  lines.push(
    grid(
      ['condition', 'play', 'runs', 'turns', 'end centroid (PC1, PC2)', 'cross-seed similarity (pairs)', 'drift at last turn'],
      t.conditions.map((c) => {
        const last = c.drift.at(-1);
        return [
          c.condition,
          c.play,
          String(c.runs),
          String(c.turns),
          `${f(c.centroid.x)}, ${f(c.centroid.y)}`,
          c.crossSeedSimilarity ? `${f(c.crossSeedSimilarity.mean)} [${f(c.crossSeedSimilarity.min)}, ${f(c.crossSeedSimilarity.max)}] (${c.crossSeedSimilarity.pairs})` : '– (one run)',
          last ? `${f(last.mean)} at turn ${last.turn} (n ${last.n})` : '–',
        ];
      }),
      md,
    ),
  );
  const pulls = t.conditions.flatMap((c) => c.partnerPull.map((p) => [c.condition, p.model, p.partner, p.mean === null ? `– (${p.reason ?? 'no run'})` : f(p.mean), String(p.n)]));
  if (pulls.length > 0) {
    lines.push('', md ? '**Partner pull** (0: stays in its own self-play region, 1: ends in its partner\'s)' : 'partner pull (0: stays in its own self-play region, 1: ends in its partner\'s):');
    lines.push(grid(['condition', 'model', 'partner', 'pull', 'runs'], pulls, md));
  }
  return `${lines.join('\n')}\n`;
}
