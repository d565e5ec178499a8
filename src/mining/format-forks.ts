import type { CommitmentCurve, ForkGroupStats, ForkStats, Persistence, Share } from './fork-stats.js';
import { grid } from './format-stats.js';
import type { ForkReading } from './gather-forks.js';

const pct = (x: number | null) => (x === null ? '–' : `${(x * 100).toFixed(1)}%`);
const ci = (s: Share) => (s.ci ? `${pct(s.ci[0])} – ${pct(s.ci[1])}` : '–');
const parentIn = (v: boolean | number) => (typeof v === 'boolean' ? (v ? 'yes' : 'no') : pct(v));

/** Curves worth a table: those where some child entered, or the parent was in the attractor at some fork turn. */
function shown(curves: readonly CommitmentCurve[]): CommitmentCurve[] {
  return curves.filter((c) => c.points.some((p) => p.k > 0 || p.parentInAt === true || (typeof p.parentInAt === 'number' && p.parentInAt > 0)));
}

function groupBlock(title: string, g: ForkGroupStats, stats: ForkStats, md: boolean): string {
  const out = [md ? `## ${title.replace(/[\\`*_[\]<>#|]/g, '\\$&')}\n` : `== ${title} ==`];
  const curves = shown(g.curves);
  if (curves.length === 0) out.push(`no child entered any attractor (${g.children} children)\n`);
  for (const c of curves) {
    const committed = c.committedFrom === null ? `never stays at or above ${stats.commitThreshold}` : `committed from fork turn ${c.committedFrom} (share ≥ ${stats.commitThreshold} there and at every later fork turn)`;
    out.push(md ? `**${c.attractor}** · ${c.perturbation}: ${committed}\n` : `${c.attractor} · ${c.perturbation}: ${committed}`);
    out.push(
      `${grid(
        ['fork turn', 'entered after the fork', 'share', '95% CI (Wilson)', 'parent in it at the fork'],
        c.points.map((p) => [String(p.atTurn), `${p.k}/${p.n}`, pct(p.share), ci(p), parentIn(p.parentInAt)]),
        md,
      )}\n`,
    );
  }
  const persistence = g.persistence.filter((p: Persistence) => p.persistence.n > 0 || p.inAtFork > 0);
  if (persistence.length > 0) {
    out.push(md ? `**Persistence and recovery** (children in the attractor at the fork turn)\n` : 'persistence and recovery (children in the attractor at the fork turn):');
    out.push(
      `${grid(
        ['attractor', 'condition', 'fork turn', 'in at fork', `still in ${stats.persistenceTurns} turns later`, '95% CI', 'left and did not return', '95% CI'],
        persistence.map((p) => [p.attractor, p.perturbation, String(p.atTurn), String(p.inAtFork), `${p.persistence.k}/${p.persistence.n} ${pct(p.persistence.share)}`, ci(p.persistence), `${p.recovery.k}/${p.recovery.n} ${pct(p.recovery.share)}`, ci(p.recovery)]),
        md,
      )}\n`,
    );
  }
  return out.join('\n');
}

/** `arena stats --forks` as a terminal table or Markdown: per parent, then pooled per condition of the parents. */
export function formatForks(stats: ForkReading, md: boolean): string {
  const head = `forks: ${stats.childrenRead} children of ${stats.parentsRead} parent${stats.parentsRead === 1 ? '' : 's'}${stats.orphans > 0 ? ` (${stats.orphans} children whose parent could not be read, left out)` : ''}; a child "entered" when it is in the attractor at some turn after its fork turn; persistence is read ${stats.persistenceTurns} turns after the fork`;
  const parts = [md ? `${head}\n` : `${head}\n`];
  for (const p of stats.parents) parts.push(groupBlock(`parent ${p.parentRunId} (${p.condition}) · ${p.children} children`, p, stats, md));
  const pooled = stats.conditions.filter((c) => c.parents > 1);
  for (const c of pooled) parts.push(groupBlock(`pooled: ${c.condition} · ${c.parents} parents · ${c.children} children`, c, stats, md));
  return `${parts.join('\n')}\n`;
}
