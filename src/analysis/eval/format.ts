import type { EvalReport } from './evaluate.js';
import type { AttractorScore } from './metrics.js';
import { columns, padEndTo, textWidth } from '../../text-width.js';

/** Column headers of the end-state table: short enough for a terminal. */
const SHORT: Record<string, string> = {
  spiritual_bliss: 'bliss',
  repetition_loop: 'repetition',
  farewell_loop: 'farewell',
  emoji_collapse: 'emoji',
  wedding_party: 'wedding',
};

const num = (x: number | null, digits = 2) => (x === null ? '—' : x.toFixed(digits));
const ci = ([lo, hi]: [number, number]) => `[${lo.toFixed(2)}, ${hi.toFixed(2)}]`;
const pct = (x: number) => `${Math.round(x * 100)}%`;
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const signed = (x: number | null) => (x === null ? '—' : `${x > 0 ? '+' : ''}${x.toFixed(1)}`);

/** A table with a left-aligned first column and right-aligned others. */
function table(header: string[], rows: string[][], indent = ''): string[] {
  return columns([header, ...rows], { right: header.map((_, i) => i).slice(1), indent });
}

function scoresTable(scores: readonly AttractorScore[]): string[] {
  return table(
    ['attractor', 'runs', 'labelled', 'tp', 'fp', 'fn', 'tn', 'precision', '95% CI', 'recall', '95% CI', 'F1'],
    scores.map((s) => [
      s.attractor,
      String(s.n),
      String(s.tp + s.fn),
      String(s.tp),
      String(s.fp),
      String(s.fn),
      String(s.tn),
      num(s.precision),
      ci(s.ci95.precision),
      num(s.recall),
      ci(s.ci95.recall),
      num(s.f1),
    ]),
  );
}

function onsetTable(scores: readonly AttractorScore[]): string[] {
  return table(
    ['attractor', 'true positives with an onset', 'median |error|', 'within ±3', 'median signed'],
    scores.map((s) => [
      s.attractor,
      String(s.onset.n),
      num(s.onset.median, 1),
      s.onset.within3 === null ? '—' : `${Math.round(s.onset.within3 * s.onset.n)} (${pct(s.onset.within3)})`,
      signed(s.onset.medianSigned),
    ]),
  );
}

function confusionTable(report: EvalReport): string[] {
  const c = report.confusion;
  if (c.rows.length === 0) return ['(no label gives an end state)'];
  const heads = c.columns.map((col) => SHORT[col] ?? col);
  const out = table(
    ['labelled \\ detected', ...heads, 'runs'],
    c.rows.map((r) => [r.endState, ...c.columns.map((col) => (r.counts[col] ? String(r.counts[col]) : '·')), String(r.n)]),
  );
  const legend = c.columns.filter((col) => SHORT[col]).map((col) => `${SHORT[col]} = ${col}`);
  if (legend.length > 0) out.push(`columns: ${legend.join(', ')}`);
  const a = c.agreement;
  out.push(`agreement: ${a.count} of ${a.n}${a.share === null ? '' : ` (${pct(a.share)})`} (an attractor end state read as that attractor, any other as none)`);
  return out;
}

/** A detector's evidence without words to show: its plain values, one level deep (`detectedAt 8, overlap 0.91`). */
function scalars(evidence: unknown): string {
  const out: string[] = [];
  const visit = (value: unknown, depth: number) => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return;
    for (const [k, v] of Object.entries(value)) {
      if (typeof v === 'number') out.push(`${k} ${Number.isInteger(v) ? v : v.toFixed(2)}`);
      else if (typeof v === 'string' || typeof v === 'boolean') out.push(`${k} ${String(v)}`);
      else if (depth === 0) visit(v, 1);
    }
  };
  visit(evidence, 0);
  return out.length > 0 ? `  ${out.slice(0, 5).join(', ')}` : '';
}

function errorLines(s: AttractorScore): string[] {
  const width = Math.min(60, Math.max(0, ...[...s.misses, ...s.falseAlarms].map((e) => textWidth(e.label))));
  // A longer label is printed whole (it names the run), past the column.
  const label = (l: string) => padEndTo(l, width);
  const note = (n: string | null) => (n ? `  | ${n}` : '');
  const terms = (t: readonly string[]) => (t.length > 0 ? `  ${t.slice(0, 6).join(', ')}` : '');
  const out = [`${s.attractor}: ${plural(s.falseAlarms.length, 'false alarm')}, ${plural(s.misses.length, 'miss', 'misses')}`];
  for (const f of s.falseAlarms) {
    const why = f.terms.length > 0 ? terms(f.terms) : scalars(f.evidence);
    out.push(`  false alarm  ${label(f.label)}  entered turn ${f.turn}, score ${f.score.toFixed(2)}${why}${note(f.note)}`);
  }
  for (const m of s.misses) {
    const onset = m.labelledOnset === null ? 'labelled' : `labelled from turn ${m.labelledOnset}`;
    const peak = m.peak ? `best turn ${m.peak.turn}, score ${m.peak.score.toFixed(2)}${terms(m.peak.terms)}` : 'no score recorded';
    out.push(`  miss         ${label(m.label)}  ${onset}; ${peak}${note(m.note)}`);
  }
  return out;
}

/** The human-readable report of `arena eval`. */
export function formatEval(report: EvalReport, runsFrom: string): string {
  const out: string[] = [];
  const filtered = report.minConfidence === 'low' ? '' : `; confidence ≥ ${report.minConfidence}, ${report.belowConfidence} below left out`;
  out.push(`labels:  ${report.labels} (${report.format === 'jsonl' ? 'JSONL' : 'records'}${filtered})`);
  out.push(`runs:    ${plural(report.runs, 'run log')} under ${runsFrom}; ${report.matched} labelled runs matched, ${report.unlabelledRuns} without a label ignored`);
  const sources = { detector: 'the current detectors, re-run on the turns', log: 'the attractor events already in the logs', judge: 'the judgement events in the logs (arena judge)' };
  out.push(`source:  ${sources[report.source]}`);
  if (report.unmatched.length > 0) out.push(`unmatched: ${plural(report.unmatched.length, 'label record')} (listed below)`);
  for (const n of report.notScored) out.push(`not scored: ${n.attractor} (${n.reason})`);
  out.push('');
  out.push('Detection (a run counts as detected when the attractor was entered at least once; 95% Wilson intervals)');
  out.push(...scoresTable(report.attractors));
  const partial = report.attractors.filter((s) => s.notAnalysed > 0);
  for (const s of partial) out.push(`  ${s.attractor}: ${plural(s.notAnalysed, 'labelled run')} whose log holds no analysis of it left out`);
  out.push('');
  out.push('Onset error on true positives with a labelled onset (detected − labelled, in turns)');
  out.push(...onsetTable(report.attractors));
  out.push('');
  out.push(`End state: labelled (rows) vs the detector's state over the last ${pct(report.confusion.window)} of turns (columns)`);
  out.push(...confusionTable(report));
  if (report.unmatched.length > 0) {
    out.push('');
    out.push(`Unmatched label records (${report.unmatched.length})`);
    const width = Math.min(60, Math.max(...report.unmatched.map((u) => textWidth(u.label))));
    for (const u of report.unmatched) out.push(`  ${padEndTo(u.where, 10)}  ${padEndTo(u.label, width)}  ${u.reason}`);
  }
  const wrong = report.attractors.filter((s) => s.misses.length + s.falseAlarms.length > 0);
  if (wrong.length > 0) {
    out.push('');
    out.push('Misses and false alarms (label note after |)');
    for (const s of wrong) out.push(...errorLines(s));
  }
  return `${out.join('\n')}\n`;
}
