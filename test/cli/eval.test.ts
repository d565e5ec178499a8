import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeRunEvents } from '../../src/analysis/analyze-run.js';
import { BUILTIN_ATTRACTORS } from '../../src/analysis/builtin.js';
import { writeImportedRun } from '../../src/mining/import/write-run.js';
import { readRunLog } from '../../src/runlog/reader.js';
import { runMain } from '../helpers/main-in-process.js';
import { GARDEN_PROSE, sharedLabels, sharedRecord as record } from '../helpers/labels.js';
import { tempDir } from '../helpers/tmp-dir.js';
import { writeRun } from '../mining/_runs.js';

const LOOP = Array.from({ length: 10 }, () => 'The door is still closed and the hallway hums with the same yellow light as before.');
const PROSE = GARDEN_PROSE;

/** An imported backrooms run, as `arena import backrooms` writes it, from `<root>/var/backrooms_logs/<rel>`. */
function importRun(root: string, rel: string, texts: readonly string[]) {
  return writeImportedRun(join(root, 'runs'), {
    turns: texts.map((text, i) => ({ speaker: i % 2 ? 'Claude 2' : 'Claude 1', text })),
    source: { format: 'backrooms', path: join(root, 'var', 'backrooms_logs', rel) },
    scenarioName: 'backrooms test',
    models: new Map(),
  });
}


function writeShared(file: string, records: unknown[]): string {
  writeFileSync(file, sharedLabels(records));
  return file;
}

function writeJsonl(file: string, lines: unknown[]): string {
  writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  return file;
}

interface Score {
  attractor: string;
  n: number;
  tp: number;
  fp: number;
  fn: number;
  tn: number;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  ci95: { precision: [number, number]; recall: [number, number] };
  onset: { median: number | null; within3: number | null; n: number; medianSigned: number | null };
  misses: { run: string; label: string; labelledOnset: number | null; peak: { turn: number; score: number } | null; note: string | null }[];
  falseAlarms: { run: string; label: string; turn: number; score: number; evidence: unknown }[];
}
interface Report {
  matched: number;
  unmatched: { label: string; where: string; reason: string }[];
  attractors: Score[];
  notScored: { attractor: string; reason: string }[];
  unlabelledRuns: number;
  belowConfidence: number;
  source: string;
  confusion: { rows: { endState: string; n: number; counts: Record<string, number> }[] };
}

async function evalJson(args: string[], cwd: string): Promise<{ report: Report; err: string }> {
  const res = await runMain(['eval', ...args, '--json'], cwd);
  if (res.code !== 0) throw new Error(`exit ${res.code}: ${res.err}`);
  const lines = res.out.trimEnd().split('\n');
  return { report: JSON.parse(lines.at(-1)!) as Report, err: res.err };
}

const byName = (r: Report, a: string) => r.attractors.find((s) => s.attractor === a);

describe.concurrent('arena eval', () => {
  it('shared labels, current detectors: a verbatim loop is a true positive, prose a true negative, unmatched records listed', async (ctx) => {
    const root = tempDir(ctx);
    const loop = importRun(root, 'sub/a_b_cli_20250101_000000.txt', LOOP);
    const prose = importRun(root, 'sub/a_b_cli_20250101_000100.txt', PROSE);
    importRun(root, 'other/unlabelled.txt', PROSE.slice(0, 4));
    const labels = writeShared(join(root, 'labels.json'), [
      record('sub/a_b_cli_20250101_000000.txt', { repetition_loop: true, repetition_onset_turn: 2, end_state: 'repetition_loop', notes: 'the same line every turn' }),
      record('sub/a_b_cli_20250101_000100.txt', { silence: true, silence_onset_turn: 3, notes: 'garden talk, labelled silent for the test' }),
      record('sub/never_imported.txt'),
    ]);
    const res = await runMain(['eval', join(root, 'runs'), '--labels', labels, '--json'], root);
    ctx.expect(res.err).toBe('');
    ctx.expect(res.code).toBe(0);
    ctx.expect(res.out.trimEnd().split('\n')).toHaveLength(1);
    const report = JSON.parse(res.out) as Report;

    // The contract of DESIGN.md: these keys, these shapes.
    ctx.expect(Object.keys(report)).toEqual(expect.arrayContaining(['matched', 'unmatched', 'attractors']));
    for (const s of report.attractors) {
      ctx.expect(Object.keys(s)).toEqual(expect.arrayContaining(['attractor', 'tp', 'fp', 'fn', 'precision', 'recall', 'f1', 'ci95', 'onset']));
      ctx.expect(Object.keys(s.ci95).sort()).toEqual(['precision', 'recall']);
      ctx.expect(s.ci95.precision).toHaveLength(2);
      ctx.expect(s.ci95.recall).toHaveLength(2);
      ctx.expect(Object.keys(s.onset)).toEqual(expect.arrayContaining(['median', 'within3']));
    }
    ctx.expect(report.matched).toBe(2);
    ctx.expect(report.unlabelledRuns).toBe(1);
    ctx.expect(report.unmatched).toEqual([{ label: 'sub/never_imported.txt', where: 'record 2', reason: 'no run with this runId, run folder or imported source path' }]);
    ctx.expect(report.attractors.map((s) => s.attractor)).toEqual(['spiritual_bliss', 'repetition_loop', 'farewell_loop', 'emoji_collapse', 'silence', 'wedding_party']);

    const rep = byName(report, 'repetition_loop')!;
    ctx.expect([rep.tp, rep.fp, rep.fn, rep.tn, rep.precision, rep.recall, rep.f1]).toEqual([1, 0, 0, 1, 1, 1, 1]);
    ctx.expect(rep.ci95.precision).toEqual([0.2065, 1]);
    const silence = byName(report, 'silence')!;
    ctx.expect([silence.tp, silence.fp, silence.fn, silence.tn, silence.precision, silence.recall]).toEqual([0, 0, 1, 1, null, 0]);
    ctx.expect(silence.misses).toEqual([expect.objectContaining({ label: 'sub/a_b_cli_20250101_000100.txt', labelledOnset: 3, note: 'garden talk, labelled silent for the test' })]);
    ctx.expect(report.confusion.rows.find((r) => r.endState === 'repetition_loop')!.counts.repetition_loop).toBe(1);

    // An independent recount, from the analysis `arena analyze` runs, agrees on every attractor.
    const detected = new Map<string, Set<string>>();
    for (const r of [loop, prose]) {
      const { events } = await readRunLog(join(r.runDir, 'events.jsonl'));
      detected.set(r.runId, new Set((await analyzeRunEvents(events, { detectors: BUILTIN_ATTRACTORS })).attractors.map((a) => a.attractor)));
    }
    const present: Record<string, Set<string>> = { repetition_loop: new Set([loop.runId]), silence: new Set([prose.runId]) };
    for (const s of report.attractors) {
      const count = { tp: 0, fp: 0, fn: 0, tn: 0 };
      for (const id of [loop.runId, prose.runId]) {
        const d = detected.get(id)!.has(s.attractor);
        const p = present[s.attractor]?.has(id) ?? false;
        count[d ? (p ? 'tp' : 'fp') : p ? 'fn' : 'tn']++;
      }
      ctx.expect({ attractor: s.attractor, tp: s.tp, fp: s.fp, fn: s.fn, tn: s.tn }).toEqual({ attractor: s.attractor, ...count });
    }
    const { events } = await readRunLog(join(loop.runDir, 'events.jsonl'));
    const first = (await analyzeRunEvents(events, { detectors: BUILTIN_ATTRACTORS })).attractors.find((a) => a.attractor === 'repetition_loop')!;
    const error = first.enteredTurn - 2;
    ctx.expect(rep.onset).toEqual({ median: Math.abs(error), within3: Math.abs(error) <= 3 ? 1 : 0, n: 1, medianSigned: error });
  });

  it('--source log scores the events in the logs: tp, fp, fn, onset error, JSONL by runId and by run folder', async (ctx) => {
    const root = tempDir(ctx);
    const runs = join(root, 'runs');
    const A = 'repetition_loop';
    writeRun(runs, { runId: 'r1', turns: 12, entered: { [A]: 5 } });
    writeRun(runs, { runId: 'r2', turns: 12, entered: { [A]: 3 } });
    writeRun(runs, { runId: 'r3', turns: 12, attractors: [A] });
    writeRun(runs, { runId: 'r4', turns: 20, entered: { [A]: 10 } });
    writeRun(runs, { runId: 'r5', turns: 12, attractors: [A] });
    const labels = writeJsonl(join(root, 'labels.jsonl'), [
      { run: 'r1', attractor: A, present: true, onsetTurn: 4 },
      { run: 'runs/r2', attractor: A, present: false, confidence: 'low', notes: 'a story, not a loop' },
      { run: 'r3', attractor: A, present: true, onsetTurn: 2, notes: 'misses it' },
      { run: join(runs, 'r4'), attractor: A, present: true, onsetTurn: 14, confidence: 'medium' },
      { run: 'r5', attractor: A, present: false },
      { run: 'r-gone', attractor: A, present: true, onsetTurn: 1 },
    ]);
    const { report } = await evalJson([runs, '--labels', labels, '--source', 'log'], root);
    ctx.expect(report.source).toBe('log');
    ctx.expect(report.matched).toBe(5);
    ctx.expect(report.unmatched.map((u) => [u.label, u.where])).toEqual([['r-gone', 'line 6']]);
    const s = byName(report, A)!;
    ctx.expect([s.n, s.tp, s.fp, s.fn, s.tn]).toEqual([5, 2, 1, 1, 1]);
    ctx.expect([s.precision, s.recall, s.f1]).toEqual([0.6667, 0.6667, 0.6667]);
    // Wilson 95% for 2 of 3 by hand: centre (2/3 + z²/6)/(1 + z²/3) = 0.5731, half-width 0.3654.
    ctx.expect(s.ci95).toEqual({ precision: [0.2077, 0.9385], recall: [0.2077, 0.9385] });
    // Onset errors +1 (r1) and −4 (r4).
    ctx.expect(s.onset).toEqual({ median: 2.5, within3: 0.5, n: 2, medianSigned: -1.5 });
    ctx.expect(s.falseAlarms).toEqual([{ run: 'r2', label: 'runs/r2', turn: 3, score: 0.9, terms: [], evidence: {}, note: 'a story, not a loop' }]);
    ctx.expect(s.misses).toEqual([{ run: 'r3', label: 'r3', labelledOnset: 2, peak: { turn: 1, score: 0.1, terms: [] }, note: 'misses it' }]);

    // --min-confidence medium leaves the low-confidence r2 line out: the false alarm goes with it.
    const { report: medium } = await evalJson([runs, '--labels', labels, '--source', 'log', '--min-confidence', 'medium'], root);
    const m = byName(medium, A)!;
    ctx.expect([m.tp, m.fp, m.fn, m.tn, m.precision]).toEqual([2, 0, 1, 1, 1]);
    ctx.expect(medium.belowConfidence).toBe(1);
    const { report: high } = await evalJson([runs, '--labels', labels, '--source', 'log', '--min-confidence', 'high'], root);
    ctx.expect(byName(high, A)!.tp).toBe(1);
  });

  it('--source log on runs without analysis scores nothing and says so; --source detector re-runs the detectors; after analyze --write both agree', async (ctx) => {
    const root = tempDir(ctx);
    importRun(root, 'x/loop.txt', LOOP);
    importRun(root, 'x/prose.txt', PROSE);
    const labels = writeJsonl(join(root, 'labels.jsonl'), [
      { run: 'x/loop.txt', attractor: 'repetition_loop', present: true, onsetTurn: 2 },
      { run: 'x/prose.txt', attractor: 'repetition_loop', present: false },
    ]);
    const runs = join(root, 'runs');
    const log = await evalJson([runs, '--labels', labels, '--source', 'log'], root);
    ctx.expect(log.report.attractors).toEqual([]);
    ctx.expect(log.report.notScored).toEqual([{ attractor: 'repetition_loop', reason: 'no labelled run holds analysis of it' }]);
    ctx.expect(log.err).toMatch(/^warning: 2 of 2 labelled runs hold no analysis in their log/);

    const detector = await evalJson([runs, '--labels', labels], root);
    const d = byName(detector.report, 'repetition_loop')!;
    ctx.expect([d.tp, d.fp, d.fn, d.tn]).toEqual([1, 0, 0, 1]);

    const written = await runMain(['analyze', runs, '--write', '--json'], root);
    ctx.expect(written.code).toBe(0);
    const after = await evalJson([runs, '--labels', labels, '--source', 'log'], root);
    ctx.expect(after.report.attractors).toEqual(detector.report.attractors);
    ctx.expect(after.err).toBe('');

    // --detectors narrows what is re-run: a labelled attractor no detector looks for is not scored.
    const narrow = await evalJson([runs, '--labels', labels, '--detectors', 'silence'], root);
    ctx.expect(narrow.report.attractors).toEqual([]);
    ctx.expect(narrow.report.notScored).toEqual([{ attractor: 'repetition_loop', reason: 'not among the detectors' }]);
  });

  it('--attractors restricts what is scored', async (ctx) => {
    const root = tempDir(ctx);
    importRun(root, 'loop.txt', LOOP);
    const labels = writeShared(join(root, 'labels.json'), [record('loop.txt', { repetition_loop: true, repetition_onset_turn: 2 })]);
    const { report } = await evalJson([join(root, 'runs'), '--labels', labels, '--attractors', 'repetition_loop,silence'], root);
    ctx.expect(report.attractors.map((s) => s.attractor)).toEqual(['repetition_loop', 'silence']);
    ctx.expect(Object.keys(report.confusion.rows[0]!.counts)).toEqual(['none', 'repetition_loop', 'silence']);
  });

  it('prints readable tables, the unmatched records and every miss and false alarm', async (ctx) => {
    const root = tempDir(ctx);
    const runs = join(root, 'runs');
    writeRun(runs, { runId: 'r1', turns: 10, entered: { repetition_loop: 4 } });
    writeRun(runs, { runId: 'r2', turns: 10, entered: { repetition_loop: 2 } });
    writeRun(runs, { runId: 'r3', turns: 10, attractors: ['repetition_loop'] });
    const labels = writeJsonl(join(root, 'l.jsonl'), [
      { run: 'r1', attractor: 'repetition_loop', present: true, onsetTurn: 4, endState: 'repetition_loop' },
      { run: 'r2', attractor: 'repetition_loop', present: false, notes: 'a chorus, not a loop', endState: 'story_or_roleplay' },
      { run: 'r3', attractor: 'repetition_loop', present: true, onsetTurn: 6, notes: 'the same menu again', endState: 'repetition_loop' },
      { run: 'nowhere/r9', attractor: 'repetition_loop', present: true },
    ]);
    const res = await runMain(['eval', runs, '--labels', labels, '--source', 'log'], root);
    ctx.expect(res.code).toBe(0);
    const out = res.out;
    ctx.expect(out).toContain('3 run logs under');
    ctx.expect(out).toContain('3 labelled runs matched, 0 without a label ignored');
    ctx.expect(out).toMatch(/^attractor\s+runs\s+labelled\s+tp\s+fp\s+fn\s+tn\s+precision\s+95% CI\s+recall\s+95% CI\s+F1$/m);
    ctx.expect(out).toMatch(/^repetition_loop\s+3\s+2\s+1\s+1\s+1\s+0\s+0\.50\s+\[0\.09, 0\.91\]\s+0\.50\s+\[0\.09, 0\.91\]\s+0\.50$/m);
    ctx.expect(out).toMatch(/^repetition_loop\s+1\s+0\.0\s+1 \(100%\)\s+0\.0$/m);
    ctx.expect(out).toMatch(/^repetition_loop\s+1\s+1\s+2$/m);
    ctx.expect(out).toMatch(/^story_or_roleplay\s+·\s+1\s+1$/m);
    ctx.expect(out).toContain('Unmatched label records (1)');
    ctx.expect(out).toMatch(/^ {2}line 4\s+nowhere\/r9\s+no run with this runId/m);
    ctx.expect(out).toMatch(/^ {2}false alarm\s+r2\s+entered turn 2, score 0\.90\s+\| a chorus, not a loop$/m);
    ctx.expect(out).toMatch(/^ {2}miss\s+r3\s+labelled from turn 6; best turn 1, score 0\.10\s+\| the same menu again$/m);
  });

  it('bad input: exit 2 with one line on stderr and nothing on stdout', async (ctx) => {
    const root = tempDir(ctx);
    importRun(root, 'sub/a.txt', PROSE);
    const runs = join(root, 'runs');
    const good = writeShared(join(root, 'good.json'), [record('sub/a.txt')]);
    const badLine = join(root, 'bad.jsonl');
    writeFileSync(badLine, `${JSON.stringify({ run: 'a', attractor: 'silence', present: true })}\n{"run": "b", "attractor": "silence", "present": "yes"}\n`);
    const badRecord = writeShared(join(root, 'bad.json'), [record('sub/a.txt'), record('b.txt', { bliss_onset_turn: 'late' })]);
    const nomatch = writeShared(join(root, 'nomatch.json'), [record('elsewhere/z.txt')]);
    mkdirSync(join(root, 'empty'));

    const cases: [string[], RegExp][] = [
      [[runs], /^arena eval: --labels FILE is required/],
      [[runs, '--labels', join(root, 'missing.json')], /missing\.json: no such labels file$/],
      [[runs, '--labels', badLine], /bad\.jsonl:2: present: expected boolean, got string/],
      [[runs, '--labels', badRecord], /bad\.json: records\[1\]\.bliss_onset_turn: /],
      [[join(root, 'empty'), '--labels', good], /no events\.jsonl found under/],
      [[join(root, 'nowhere'), '--labels', good], /nowhere: no such file or folder/],
      [[runs, '--labels', nomatch], /none of the 1 label records matched a run .*'elsewhere\/z\.txt'.*'dreamsim2\/x\.txt' matches a run whose run\.started source\.path is \/data\/var\/backrooms_logs\/dreamsim2\/x\.txt/],
      [[runs, '--labels', good, '--source', 'oracle'], /--source must be one of detector, log, judge, got 'oracle'/],
      [[runs, '--labels', good, '--min-confidence', 'certain'], /--min-confidence must be one of low, medium, high/],
      [[runs, '--labels', good, '--attractors', 'dragons'], /--attractors: no label names dragons/],
      [[runs, '--labels', good, '--source', 'log', '--detectors', 'silence'], /--detectors applies to --source detector only/],
      [[runs, '--labels', good, '--detectors', 'nonesuch'], /unknown attractor 'nonesuch'/],
    ];
    for (const [args, message] of cases) {
      const res = await runMain(['eval', ...args, '--json'], root);
      ctx.expect(res.code, args.join(' ')).toBe(2);
      ctx.expect(res.out, args.join(' ')).toBe('');
      ctx.expect(res.err.trimEnd().split('\n'), args.join(' ')).toHaveLength(1);
      ctx.expect(res.err.trimEnd(), args.join(' ')).toMatch(message);
    }
  });
});
