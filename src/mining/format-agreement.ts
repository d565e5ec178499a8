import type { AgreementResult, AttractorAgreement } from './agreement.js';
import { grid } from './format-stats.js';

const pct = (x: number | null) => (x === null ? '–' : `${(x * 100).toFixed(1)}%`);
const fixed = (x: number) => (Object.is(x, -0) ? 0 : x).toFixed(2);

/** κ as a reader sees it: the number, or "undefined" (never 0 or NaN) when it has none. */
export function kappaText(a: AttractorAgreement): string {
  return a.kappa === null ? 'undefined' : fixed(a.kappa);
}

export function kappaInterval(a: AttractorAgreement): string {
  return a.ci95 === null ? `– (${a.undefinedBecause ?? 'undefined'})` : `${fixed(a.ci95[0])} – ${fixed(a.ci95[1])}`;
}

/** The columns of the agreement table, shared by the terminal, Markdown and the HTML report. */
export const AGREEMENT_HEAD = ['attractor', 'n', 'both present', 'judge only', 'detectors only', 'both absent', 'agreement', 'κ', '95% CI', 'left out'] as const;

export function agreementRows(r: AgreementResult): string[][] {
  return r.attractors.map((a) => [a.attractor, String(a.n), String(a.table.both), String(a.table.judgeOnly), String(a.table.detectorOnly), String(a.table.neither), pct(a.agreement), kappaText(a), kappaInterval(a), String(a.leftOut)]);
}

/** `arena stats --agreement` for a terminal (table) or Markdown. */
export function formatAgreement(r: AgreementResult, md: boolean): string {
  const judge = `${r.judge.backend}:${r.judge.model}`;
  const title = `Cohen's κ between the judge ${judge} and the detectors, per attractor, over the runs both have a verdict for (${r.runs} runs read)`;
  const note = `95% CI: ${r.method}. Left out: runs whose judgement is missing, failed or partial for the attractor, or whose detectors did not score it.`;
  if (r.attractors.length === 0) return `${title}\nthe judge named no attractor in these runs\n`;
  return md ? `## ${title}\n\n${grid([...AGREEMENT_HEAD], agreementRows(r), true)}\n\n${note}\n` : `== ${title} ==\n${grid([...AGREEMENT_HEAD], agreementRows(r), false)}\n${note}\n`;
}
