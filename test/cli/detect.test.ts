import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCalibration, type Calibration } from '../../src/analysis/calibration.js';
import { DETECTOR_SPECS } from '../../src/analysis/detector-specs.js';
import type { CrossValidated } from '../../src/analysis/fit-runs.js';
import { runMain } from '../helpers/main-in-process.js';
import { GARDEN_PROSE } from '../helpers/labels.js';
import { tempDir } from '../helpers/tmp-dir.js';
import { writeRun } from '../mining/_runs.js';

const PROSE = [
  ...GARDEN_PROSE,
  'The library is hosting a talk on medieval bridges next Thursday evening.',
  'I would go, but my sister is visiting and she wants to see the harbour.',
  'Take her to the fish market first, before the crowds arrive around noon.',
  'Does the old ferry still cross to the island on weekdays in autumn?',
  'Only twice a day now, and the last boat back leaves at half past four.',
  'Then we should pack sandwiches, because the island café closes early.',
  'My grandfather built a boat once, a small dinghy painted a faded blue.',
  'Did it float? My cousin tried the same thing and it sank in an hour.',
  'It floated for years, until a storm tore it loose from the jetty one night.',
  'That sounds like the beginning of a novel about lost things and the sea.',
  'Maybe I will write it this winter, when the evenings are long and dark.',
  'Start with the storm, then go back and tell us who painted the boat blue.',
  'The bakery on the corner sells a rye bread that lasts almost a whole week.',
  'Their cinnamon rolls are better, though they are gone by nine every morning.',
];

const NAMES = ['amber', 'basalt', 'cedar', 'delta', 'ember', 'fjord'];

/** A multi-line block posted again and again, verbatim, from the onset on. */
const loopBlock = (name: string) =>
  [`=== ROOM ${name.toUpperCase()} ===`, `The walls of the ${name} room hum with a low and patient sound.`, 'A door stands open onto the same corridor as before.', '> Choose: [1] enter the corridor  [2] wait here'].join('\n');

interface Built {
  root: string;
  runs: string;
  labels: string;
  loops: string[];
}

/**
 * Twelve runs of twelve turns in three scenarios: six with a verbatim loop of multi-line turns from turn 4,
 * 5 or 6 on, six of varied prose; JSONL labels for repetition_loop.
 */
function build(root: string, label: (r: number, loop: boolean, onset: number) => Record<string, unknown> | null = (r, loop, onset) => ({ present: loop, ...(loop ? { onsetTurn: onset } : {}) })): Built {
  const runs = join(root, 'runs');
  const lines: string[] = [];
  const loops: string[] = [];
  for (let r = 0; r < 12; r++) {
    const loop = r % 2 === 0;
    const onset = 4 + (r % 3);
    const runId = `run-${String(r).padStart(2, '0')}`;
    const texts = Array.from({ length: 12 }, (_, i) => (loop && i + 1 >= onset ? loopBlock(NAMES[r / 2]!) : PROSE[(i + 5 * r) % PROSE.length]!));
    writeRun(runs, { runId, scenario: `scenario-${Math.floor(r / 2) % 3}`, texts, analysed: false });
    if (loop) loops.push(runId);
    const l = label(r, loop, onset);
    if (l) lines.push(JSON.stringify({ run: runId, attractor: 'repetition_loop', ...l }));
  }
  const labels = join(root, 'labels.jsonl');
  writeFileSync(labels, lines.join('\n') + '\n');
  return { root, runs, labels, loops };
}

interface FitReport {
  out: string;
  attractors: {
    attractor: string;
    conversations: number;
    positives: number;
    thresholds: { enter: number; exit: number; enterTurns: number; exitTurns: number };
    cv?: CrossValidated;
  }[];
  skipped: { attractor: string; reason: string }[];
  unmatched: unknown[];
}

const lastLine = (out: string) => JSON.parse(out.trimEnd().split('\n').at(-1)!) as unknown;

interface EvalScore {
  attractor: string;
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

async function evalScore(b: Built, detectors: string): Promise<EvalScore> {
  const res = await runMain(['eval', 'runs', '--labels', 'labels.jsonl', '--detectors', detectors, '--json'], b.root);
  if (res.code !== 0) throw new Error(`eval exit ${res.code}: ${res.err}`);
  return (lastLine(res.out) as { attractors: EvalScore[] }).attractors.find((s) => s.attractor === 'repetition_loop')!;
}

describe.concurrent('arena detect fit', () => {
  it('fits repetition_loop on labelled runs, writes a calibration that arena eval then uses', async (ctx) => {
    const b = build(tempDir(ctx));
    const res = await runMain(['detect', 'fit', '--labels', 'labels.jsonl', 'runs', '--out', 'cal.json', '--json'], b.root);
    ctx.expect(res.err).toBe('');
    ctx.expect(res.code).toBe(0);
    ctx.expect(res.out.trimEnd().split('\n')).toHaveLength(1);
    const report = lastLine(res.out) as FitReport;
    ctx.expect(report.out).toBe(join(b.root, 'cal.json'));
    ctx.expect(report.skipped).toEqual([]);
    ctx.expect(report.unmatched).toEqual([]);
    ctx.expect(report.attractors).toHaveLength(1);
    const fitted = report.attractors[0]!;
    ctx.expect(fitted).toMatchObject({ attractor: 'repetition_loop', conversations: 12, positives: 6 });
    ctx.expect(fitted.thresholds.exit).toBeLessThanOrEqual(fitted.thresholds.enter);
    ctx.expect(fitted.cv).toBeUndefined();

    const calibration = parseCalibration(JSON.parse(readFileSync(join(b.root, 'cal.json'), 'utf8')), 'cal.json');
    ctx.expect(Object.keys(calibration.attractors)).toEqual(['repetition_loop']);
    const model = calibration.attractors.repetition_loop!;
    ctx.expect(model.model.features).toEqual(DETECTOR_SPECS.repetition_loop!.features);
    ctx.expect(model.thresholds).toEqual(fitted.thresholds);
    ctx.expect(model.model.weights.every(Number.isFinite)).toBe(true);
    // Repeated lines push towards a loop, new text away from it.
    ctx.expect(model.model.weights[model.model.features.indexOf('max4:lineRepeat')]).toBeGreaterThan(0);
    ctx.expect(model.model.weights[model.model.features.indexOf('w4:logNovel')]).toBeLessThan(0);
    ctx.expect(calibration.fittedOn).toMatchObject({ labels: 'labels.jsonl', minConfidence: 'medium', runs: 12, labelsSha256: expect.stringMatching(/^[0-9a-f]{16}$/) });

    // arena eval with the calibration in the detectors list finds the loops and nothing else.
    const score = await evalScore(b, 'all,cal.json');
    ctx.expect(score.tp).toBeGreaterThan(0);
    ctx.expect(score.fp).toBe(0);
    // …and it is the file that decides: a calibration that calls every turn a loop makes every prose run a false alarm.
    const always: Calibration = { version: 1, attractors: { repetition_loop: { model: { features: ['logWords'], mean: [0], scale: [1], weights: [0], bias: 20 }, thresholds: { enter: 0.9, exit: 0.5, enterTurns: 1, exitTurns: 1 } } } };
    writeFileSync(join(b.root, 'always.json'), JSON.stringify(always));
    ctx.expect((await evalScore(b, 'all,always.json')).fp).toBe(6);
  });

  it('--cv K adds grouped cross-validated figures with their Wilson intervals, to the output and the file', async (ctx) => {
    const b = build(tempDir(ctx));
    const res = await runMain(['detect', 'fit', '--labels', b.labels, b.runs, '--out', join(b.root, 'cal.json'), '--cv', '2', '--json'], '/');
    ctx.expect(res.err).toBe('');
    ctx.expect(res.code).toBe(0);
    const cv = (lastLine(res.out) as FitReport).attractors[0]!.cv!;
    ctx.expect(cv).toMatchObject({ conversations: 12, positives: 6 });
    // Every conversation is decided once, held out.
    ctx.expect(cv.tp + cv.fn).toBe(6);
    ctx.expect(cv.fp).toBeLessThanOrEqual(6);
    ctx.expect(cv.tp).toBeGreaterThan(0);
    ctx.expect(cv.recall).toBeCloseTo(cv.tp / 6, 4);
    for (const [low, high] of [cv.ci95.precision, cv.ci95.recall]) {
      ctx.expect(low).toBeGreaterThanOrEqual(0);
      ctx.expect(high).toBeLessThanOrEqual(1);
      ctx.expect(low).toBeLessThan(high);
    }
    ctx.expect(cv.ci95.recall[0]).toBeLessThanOrEqual(cv.recall!);
    ctx.expect(cv.ci95.recall[1]).toBeGreaterThanOrEqual(cv.recall!);
    ctx.expect(cv.onset.n).toBe(cv.tp);
    const file = JSON.parse(readFileSync(join(b.root, 'cal.json'), 'utf8')) as Calibration;
    ctx.expect(file.fittedOn).toMatchObject({ crossValidation: { folds: 2, attractors: [cv] } });
    parseCalibration(file, 'cal.json');
  });

  it('prints a readable summary without --json', async (ctx) => {
    const b = build(tempDir(ctx));
    const res = await runMain(['detect', 'fit', '--labels', 'labels.jsonl', 'runs', '--out', 'cal.json', '--cv', '3'], b.root);
    ctx.expect(res.code).toBe(0);
    ctx.expect(res.out).toMatch(/^fitted on 12 labelled runs \(confidence medium or above\) → cal\.json$/m);
    ctx.expect(res.out).toMatch(/^ {2}repetition_loop\s+6 of 12\s+labelled present; enters at p ≥ [\d.]+ for \d turn\(s\)$/m);
    ctx.expect(res.out).toMatch(/3-fold CV \(grouped by scenario and models\): precision [\d.]+ \[[\d.]+, [\d.]+\], recall [\d.]+ \[[\d.]+, [\d.]+\]/);
    ctx.expect(res.out).toContain('detectors: [all, cal.json]');
  });

  it('an attractor labelled with one class only is skipped, with the reason; the file is still a calibration', async (ctx) => {
    const b = build(tempDir(ctx), () => ({ present: true, onsetTurn: 5 }));
    const res = await runMain(['detect', 'fit', '--labels', 'labels.jsonl', 'runs', '--out', 'cal.json', '--json'], b.root);
    ctx.expect(res.code).toBe(0);
    const report = lastLine(res.out) as FitReport;
    ctx.expect(report.attractors).toEqual([]);
    ctx.expect(report.skipped).toEqual([{ attractor: 'repetition_loop', reason: expect.stringMatching(/with and without it \(12 of 12 have it\)/) }]);
    ctx.expect(parseCalibration(JSON.parse(readFileSync(join(b.root, 'cal.json'), 'utf8')), 'cal.json').attractors).toEqual({});
  });

  it('--attractors fits only those named; a labelled attractor without a feature spec is skipped with the reason', async (ctx) => {
    const root = tempDir(ctx);
    const b = build(root);
    writeFileSync(b.labels, readFileSync(b.labels, 'utf8') + JSON.stringify({ run: 'run-00', attractor: 'wedding_party', present: true, onsetTurn: 2 }) + '\n' + JSON.stringify({ run: 'run-01', attractor: 'wedding_party', present: false }) + '\n');
    // By default only attractors with a spec are fitted: wedding_party is left alone.
    const plain = lastLine((await runMain(['detect', 'fit', '--labels', 'labels.jsonl', 'runs', '--out', 'a.json', '--json'], root)).out) as FitReport;
    ctx.expect(plain.attractors.map((a) => a.attractor)).toEqual(['repetition_loop']);
    ctx.expect(plain.skipped).toEqual([]);
    const res = await runMain(['detect', 'fit', '--labels', 'labels.jsonl', 'runs', '--out', 'b.json', '--attractors', 'wedding_party', '--json'], root);
    ctx.expect(res.code).toBe(0);
    const report = lastLine(res.out) as FitReport;
    ctx.expect(report.attractors).toEqual([]);
    ctx.expect(report.skipped).toEqual([{ attractor: 'wedding_party', reason: expect.stringMatching(/no feature spec/) }]);
  });

  it('labels that match no run, and records naming runs that are not there, are reported', async (ctx) => {
    const b = build(tempDir(ctx));
    writeFileSync(b.labels, readFileSync(b.labels, 'utf8') + JSON.stringify({ run: 'run-gone', attractor: 'repetition_loop', present: true, onsetTurn: 2 }) + '\n');
    const res = await runMain(['detect', 'fit', '--labels', 'labels.jsonl', 'runs', '--out', 'cal.json', '--json'], b.root);
    ctx.expect(res.code).toBe(0);
    ctx.expect(res.err).toMatch(/^warning: .*labels\.jsonl: line 13 \(run-gone\): no run with this runId/m);
    ctx.expect((lastLine(res.out) as FitReport).unmatched).toHaveLength(1);
    const none = join(b.root, 'none.jsonl');
    writeFileSync(none, JSON.stringify({ run: 'elsewhere', attractor: 'repetition_loop', present: true }) + '\n');
    const nothing = await runMain(['detect', 'fit', '--labels', 'none.jsonl', 'runs', '--out', 'cal.json'], b.root);
    ctx.expect(nothing.code).toBe(2);
    ctx.expect(nothing.err).toMatch(/^arena detect: none of the 1 label records matched a run under runs/);
  });

  it('bad usage is exit 2 with one line on stderr, and writes nothing', async (ctx) => {
    const b = build(tempDir(ctx));
    mkdirSync(join(b.root, 'empty'));
    const cases: [string[], RegExp][] = [
      [['detect', 'fit', 'runs', '--out', 'cal.json'], /^arena detect: --labels FILE is required/],
      [['detect', 'fit', '--labels', 'labels.jsonl', 'runs'], /^arena detect: --out FILE is required/],
      [['detect', 'refit', '--labels', 'labels.jsonl', 'runs', '--out', 'cal.json'], /^arena detect: unknown subcommand 'refit'/],
      [['detect'], /^arena detect: unknown subcommand ''/],
      [['detect', 'fit', '--labels', 'labels.jsonl', 'runs', '--out', 'cal.json', '--cv', '1'], /^arena detect: --cv needs at least 2 folds/],
      [['detect', 'fit', '--labels', 'labels.jsonl', 'runs', '--out', 'cal.json', '--cv', 'two'], /^arena detect: --cv expects a whole number/],
      [['detect', 'fit', '--labels', 'labels.jsonl', 'runs', '--out', 'cal.json', '--min-confidence', 'certain'], /^arena detect: --min-confidence must be one of low, medium, high/],
      [['detect', 'fit', '--labels', 'labels.jsonl', 'runs', '--out', 'cal.json', '--attractors', 'silence'], /^arena detect: --attractors: no matched label names silence \(labelled: repetition_loop\)/],
      [['detect', 'fit', '--labels', 'missing.jsonl', 'runs', '--out', 'cal.json'], /missing\.jsonl/],
      [['detect', 'fit', '--labels', 'labels.jsonl', 'empty', '--out', 'cal.json'], /no events\.jsonl found under empty/],
      [['detect', 'fit', '--labels', 'labels.jsonl', 'runs', '--out', 'cal.json', '--bogus'], /^arena detect: Unknown option '--bogus'/],
    ];
    for (const [args, message] of cases) {
      const res = await runMain(args, b.root);
      ctx.expect(res.code, args.join(' ')).toBe(2);
      ctx.expect(res.out).toBe('');
      ctx.expect(res.err).toMatch(message);
      ctx.expect(res.err.trimEnd().split('\n'), args.join(' ')).toHaveLength(1);
    }
    ctx.expect(() => readFileSync(join(b.root, 'cal.json'))).toThrow();
    // An --out that cannot be written is an input error too.
    const res = await runMain(['detect', 'fit', '--labels', 'labels.jsonl', 'runs', '--out', 'no/such/dir/cal.json'], b.root);
    ctx.expect(res.code).toBe(2);
    ctx.expect(res.err).toMatch(/^arena detect: --out no\/such\/dir\/cal\.json: cannot write \(ENOENT\)/);
  });

  it('--help prints the usage', async (ctx) => {
    const res = await runMain(['detect', '--help'], tempDir(ctx));
    ctx.expect(res.code).toBe(0);
    ctx.expect(res.out).toMatch(/^usage: arena detect fit --labels FILE/);
  });
});
