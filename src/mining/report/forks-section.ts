import type { CommitmentCurve } from '../fork-stats.js';
import type { ForkReading } from '../gather-forks.js';
import { esc } from './escape.js';
import { commitmentSpec, toSvg } from './figures.js';

const pct = (x: number | null) => (x === null ? '–' : `${(x * 100).toFixed(1)}%`);

/** Curves worth drawing: some child entered, or the parent was in the attractor at a fork turn. */
const drawn = (curves: readonly CommitmentCurve[]) => curves.filter((c) => c.points.some((p) => p.k > 0 || p.parentInAt === true || (typeof p.parentInAt === 'number' && p.parentInAt > 0)));

/**
 * The report's fork section: per condition of the parents (pooled over its parents), the commitment curves
 * with their intervals, when each commits, and persistence and recovery after perturbations.
 */
export async function forksSection(forks: ForkReading): Promise<string> {
  const out = [
    '<section id="forks"><h2>Forks: commitment, persistence, recovery</h2>',
    `<p class="note">${forks.childrenRead} forked children of ${forks.parentsRead} parent${forks.parentsRead === 1 ? '' : 's'}${forks.orphans ? ` (${forks.orphans} whose parent could not be read, left out)` : ''}. A child counts as entered when it is in the attractor at some turn after its fork turn. Persistence: share of the children in the attractor at the fork turn still in it ${forks.persistenceTurns} turns later; recovery: share of them not in it at their last turn.</p>`,
  ];
  for (const c of forks.conditions) {
    const curves = drawn(c.curves);
    out.push(`<h3>${esc(c.condition)}</h3><p class="note">${c.parents} parent${c.parents === 1 ? '' : 's'}, ${c.children} children.</p>`);
    if (curves.length === 0) {
      out.push('<p class="note">No child entered any attractor.</p>');
      continue;
    }
    const points = curves.flatMap((cv) => cv.points.filter((p) => p.ci && p.share !== null).map((p) => ({ series: `${cv.attractor} · ${cv.perturbation}`, atTurn: p.atTurn, share: p.share!, lo: p.ci![0], hi: p.ci![1], k: p.k, n: p.n })));
    const spec = commitmentSpec(`Commitment curves: ${c.condition}`, points, forks.commitThreshold);
    out.push(`<figure aria-label="${esc((spec as { description?: string }).description ?? '')}">${await toSvg(spec)}</figure>`);
    out.push(
      '<table><thead><tr><th>attractor</th><th>condition</th><th>committed from fork turn</th></tr></thead><tbody>',
      ...curves.map((cv) => `<tr><td>${esc(cv.attractor)}</td><td>${esc(cv.perturbation)}</td><td>${cv.committedFrom ?? `never ≥ ${forks.commitThreshold}`}</td></tr>`),
      '</tbody></table>',
    );
    const persistence = c.persistence.filter((p) => p.inAtFork > 0);
    if (persistence.length > 0) {
      out.push(
        `<table><thead><tr><th>attractor</th><th>condition</th><th>fork turn</th><th>in at fork</th><th>still in ${forks.persistenceTurns} turns later</th><th>95% CI</th><th>left, did not return</th><th>95% CI</th></tr></thead><tbody>`,
        ...persistence.map((p) => {
          const ci = (s: typeof p.persistence) => (s.ci ? `${pct(s.ci[0])} – ${pct(s.ci[1])}` : '–');
          return `<tr><td>${esc(p.attractor)}</td><td>${esc(p.perturbation)}</td><td>${p.atTurn}</td><td>${p.inAtFork}</td><td>${p.persistence.k}/${p.persistence.n} ${pct(p.persistence.share)}</td><td>${ci(p.persistence)}</td><td>${p.recovery.k}/${p.recovery.n} ${pct(p.recovery.share)}</td><td>${ci(p.recovery)}</td></tr>`;
        }),
        '</tbody></table>',
      );
    }
  }
  out.push('</section>');
  return out.join('\n');
}
