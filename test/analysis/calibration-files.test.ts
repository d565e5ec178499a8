import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeTurns } from '../../src/analysis/analyze-run.js';
import { ConversationAnalyzer } from '../../src/analysis/analyzer.js';
import { BUILTIN_ATTRACTORS, UNCALIBRATED_ATTRACTORS } from '../../src/analysis/builtin.js';
import { applyCalibration, loadCalibrationFile, parseCalibration, type Calibration } from '../../src/analysis/calibration.js';
import { DETECTOR_SPECS } from '../../src/analysis/detector-specs.js';
import { windowFeatures, withWindow } from '../../src/analysis/feature-row.js';
import { resolveDetectors } from '../../src/analysis/load-attractors.js';
import { InputError } from '../../src/errors.js';
import { GARDEN_PROSE } from '../helpers/labels.js';
import { tempDir } from '../helpers/tmp-dir.js';

/** A repetition_loop model that gives every turn p ≈ 1 (a huge bias), with logWords pushing it up further. */
const ALWAYS_LOOP: Calibration = {
  version: 1,
  attractors: {
    repetition_loop: {
      model: { features: ['logWords'], mean: [0], scale: [1], weights: [1], bias: 20 },
      thresholds: { enter: 0.9, exit: 0.5, enterTurns: 2, exitTurns: 2 },
    },
  },
};

const PROSE = GARDEN_PROSE.slice(0, 6);
const proseTurns = () => PROSE.map((text, i) => ({ turn: i + 1, agentId: i % 2 ? 'b' : 'a', text }));

async function thrown(p: Promise<unknown> | (() => unknown)): Promise<Error> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}

describe('calibration files', () => {
  it('a missing file, a file that is not JSON, and one of the wrong shape are one-line input errors naming the file', async () => {
    const dir = tempDir();
    const missing = join(dir, 'nope.json');
    const notJson = join(dir, 'broken.json');
    writeFileSync(notJson, '{ "version": 1, ');
    const wrongShape = join(dir, 'shape.json');
    writeFileSync(wrongShape, JSON.stringify({ version: 1, attractors: { silence: { model: { features: ['logWords'], mean: [0, 1], scale: [1], weights: [1], bias: 0 }, thresholds: {} } } }));
    const wrongVersion = join(dir, 'v2.json');
    writeFileSync(wrongVersion, JSON.stringify({ ...ALWAYS_LOOP, version: 2 }));
    const cases: [string, RegExp][] = [
      [missing, /nope\.json: no such calibration file$/],
      [notJson, /broken\.json: not JSON \(/],
      [wrongShape, /shape\.json: attractors\.silence\.model: features, mean, scale and weights must have the same length \(not a detector calibration/],
      [wrongVersion, /v2\.json: version: .*not a detector calibration/],
    ];
    for (const [file, message] of cases) {
      const err = await thrown(loadCalibrationFile(file));
      expect(err, file).toBeInstanceOf(InputError);
      expect(err.message).toMatch(message);
      expect(err.message.startsWith(file)).toBe(true);
      expect(err.message).not.toContain('\n');
    }
  });

  it('parseCalibration names the path of what is wrong, or the top level', async () => {
    const bad = { ...ALWAYS_LOOP, attractors: { repetition_loop: { ...ALWAYS_LOOP.attractors.repetition_loop, thresholds: { enter: 0.3, exit: 0.6 } } } };
    expect((await thrown(() => parseCalibration(bad, 'c.json'))).message).toMatch(/^c\.json: attractors\.repetition_loop\.thresholds\.exit: /);
    expect((await thrown(() => parseCalibration([], 'c.json'))).message).toMatch(/^c\.json: \(top level\): /);
    expect((await thrown(() => parseCalibration({ ...ALWAYS_LOOP, extra: 1 }, 'c.json'))).message).toMatch(/^c\.json: /);
    expect(parseCalibration(ALWAYS_LOOP, 'c.json')).toEqual(ALWAYS_LOOP);
  });

  it('applyCalibration replaces the detector of the attractors it lists and leaves the others as they were', () => {
    const applied = applyCalibration(BUILTIN_ATTRACTORS, ALWAYS_LOOP);
    expect(applied.map((d) => d.name)).toEqual(BUILTIN_ATTRACTORS.map((d) => d.name));
    for (const [i, d] of applied.entries()) {
      if (d.name === 'repetition_loop') {
        expect(d.calibrated).toEqual(ALWAYS_LOOP.attractors.repetition_loop);
        // Everything else about it stays.
        expect({ ...d, calibrated: undefined }).toEqual({ ...BUILTIN_ATTRACTORS[i]!, calibrated: undefined });
      } else {
        expect(d).toBe(BUILTIN_ATTRACTORS[i]);
      }
    }
    // An uncalibrated attractor gets one.
    expect(applyCalibration(UNCALIBRATED_ATTRACTORS, ALWAYS_LOOP).find((d) => d.name === 'repetition_loop')!.calibrated).toBeDefined();
    expect(applyCalibration(UNCALIBRATED_ATTRACTORS, ALWAYS_LOOP).find((d) => d.name === 'silence')!.calibrated).toBeUndefined();
  });

  it('resolveDetectors reads a .json in a detectors list as a calibration, relative to the base folder', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'cal'));
    writeFileSync(join(dir, 'cal', 'mine.json'), JSON.stringify(ALWAYS_LOOP));
    const all = await resolveDetectors(['all', 'cal/mine.json'], dir);
    expect(all.map((d) => d.name)).toEqual(BUILTIN_ATTRACTORS.map((d) => d.name));
    expect(all.find((d) => d.name === 'repetition_loop')!.calibrated).toEqual(ALWAYS_LOOP.attractors.repetition_loop);
    expect(all.find((d) => d.name === 'silence')!.calibrated).toEqual(BUILTIN_ATTRACTORS.find((d) => d.name === 'silence')!.calibrated);
    // A calibration alone means the whole library, calibrated.
    const alone = await resolveDetectors([join(dir, 'cal', 'mine.json')], '/nowhere');
    expect(alone.map((d) => d.name)).toEqual(BUILTIN_ATTRACTORS.map((d) => d.name));
    expect(alone.find((d) => d.name === 'repetition_loop')!.calibrated).toEqual(ALWAYS_LOOP.attractors.repetition_loop);
    // Named attractors only: the calibration does not add repetition_loop.
    const named = await resolveDetectors(['silence', 'cal/mine.json'], dir);
    expect(named.map((d) => d.name)).toEqual(['silence']);
    // A missing calibration is an input error naming where it was looked for.
    const err = await thrown(resolveDetectors(['all', 'cal/other.json'], dir));
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toBe(`${join(dir, 'cal', 'other.json')}: no such calibration file`);
  });

  it('a scenario-style list with a calibration changes the analysis: the calibrated route enters, with its drivers', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'always.json'), JSON.stringify(ALWAYS_LOOP));
    const before = await analyzeTurns(proseTurns(), { detectors: BUILTIN_ATTRACTORS });
    expect(before.events.filter((e) => e.type === 'attractor.entered')).toEqual([]);

    const detectors = await resolveDetectors(['all', 'always.json'], dir);
    const { events } = await analyzeTurns(proseTurns(), { detectors });
    const entered = events.filter((e) => e.type === 'attractor.entered');
    expect(entered.map((e) => e.type === 'attractor.entered' && [e.attractor, e.turn])).toEqual([['repetition_loop', 1]]);
    const e = entered[0]!;
    if (e.type !== 'attractor.entered') throw new Error('unreachable');
    const analysed = events.flatMap((x) => (x.type === 'analysis.turn' ? [x] : []));
    const logWords = analysed.slice(0, 2).map((x) => Math.log1p(x.features.words as number));
    expect(e.evidence).toMatchObject({ route: 'calibrated', turns: [1, 2], detectedAt: 2, scores: [1, 1] });
    expect((e.evidence as { drivers: unknown }).drivers).toEqual([{ feature: 'logWords', value: expect.closeTo((logWords[0]! + logWords[1]!) / 2, 3), contribution: expect.closeTo((logWords[0]! + logWords[1]!) / 2, 3) }]);
    // The turn's score is the model's probability; the hand-set signal, gated, is kept beside it.
    expect(analysed[0]!.scores.repetition_loop).toBe(1);
    expect((analysed[0]!.features.signals as Record<string, number>).repetition_loop).toBe(0);
  });
});

describe('the shipped calibration', () => {
  const CALIBRATED = ['spiritual_bliss', 'repetition_loop', 'farewell_loop', 'emoji_collapse', 'silence'];

  it('calibrates the attractors with a feature spec, and not wedding_party', () => {
    expect(BUILTIN_ATTRACTORS.filter((d) => d.calibrated).map((d) => d.name).sort()).toEqual([...CALIBRATED].sort());
    expect(BUILTIN_ATTRACTORS.find((d) => d.name === 'wedding_party')!.calibrated).toBeUndefined();
    expect(UNCALIBRATED_ATTRACTORS.every((d) => d.calibrated === undefined)).toBe(true);
    expect(Object.keys(DETECTOR_SPECS).sort()).toEqual([...CALIBRATED].sort());
  });

  it('reads only features the analyzer produces, from the spec, with weights of the expected signs, finite numbers and valid thresholds', () => {
    const analyzer = new ConversationAnalyzer({ attractors: BUILTIN_ATTRACTORS, fullRows: true });
    let row: Record<string, number> = {};
    const texts = ['Hello there, how are you today?', '[1] Enter\n[2] Leave\n> _', '🌀✨ thank you, beloved friend ✨🌀', 'Goodbye, farewell, until next time.', '…'];
    texts.forEach((text, i) => (row = { ...analyzer.analyze({ turn: i + 1, agentId: i % 2 ? 'b' : 'a', text }).row }));
    const keys = new Set(Object.keys(row));
    for (const name of CALIBRATED) {
      const { model, thresholds } = BUILTIN_ATTRACTORS.find((d) => d.name === name)!.calibrated!;
      // The spec's features, less any the fit dropped for pointing against its expected sign.
      const spec = DETECTOR_SPECS[name]!;
      for (const f of model.features) expect(spec.features, `${name} reads ${f}`).toContain(f);
      model.features.forEach((f, j) => expect(model.weights[j]! * (spec.signs?.[f] ?? 0), `${name}: ${f} against its sign`).toBeGreaterThanOrEqual(0));
      for (const f of model.features) expect(keys.has(f), `${name} reads ${f}`).toBe(true);
      for (const x of [...model.weights, ...model.mean, ...model.scale, model.bias]) expect(Number.isFinite(x), name).toBe(true);
      expect(model.weights.some((w) => w !== 0)).toBe(true);
      expect(thresholds.exit).toBeLessThanOrEqual(thresholds.enter);
      // Every row value is a finite number the model can read.
      for (const f of model.features) expect(Number.isFinite(row[f]), f).toBe(true);
    }
  });

  it('the analyzer scores calibrated attractors with their model: a probability in [0, 1], beside the gated signal', async () => {
    const { events } = await analyzeTurns(proseTurns(), { detectors: BUILTIN_ATTRACTORS });
    for (const e of events) {
      if (e.type !== 'analysis.turn') continue;
      const signals = e.features.signals as Record<string, number>;
      expect(Object.keys(signals).sort()).toEqual([...CALIBRATED].sort());
      for (const name of CALIBRATED) {
        expect(e.scores[name]).toBeGreaterThanOrEqual(0);
        expect(e.scores[name]).toBeLessThanOrEqual(1);
      }
      expect(e.features).toHaveProperty('lineRepeat');
      expect(e.features).toHaveProperty('shapeRepeat');
      expect(e.features).toHaveProperty('interface');
    }
  });
});

describe('feature rows', () => {
  it('window features are the mean, minimum and maximum over this turn and the three before, a missing value counting 0', () => {
    const rows: Record<string, number>[] = [{ x: 100, y: 9 }, { x: 1, y: 5 }, { x: 2 }, { x: 6, y: 1 }, { x: 3, y: 0 }];
    const full = withWindow(rows);
    expect(full).toMatchObject({ x: 3, y: 0, 'w4:x': 3, 'min4:x': 1, 'max4:x': 6, 'w4:y': 1.5, 'min4:y': 0, 'max4:y': 5 });
    // Fewer than four turns so far: over those there are.
    expect(withWindow([{ x: 2 }, { x: 4 }])).toMatchObject({ 'w4:x': 3, 'min4:x': 2, 'max4:x': 4 });
    // Only the features asked for, with the same values.
    const some = withWindow(rows, windowFeatures(['w4:y', 'max4:x', 'x', 'lex:none']));
    expect(some).toEqual({ 'w4:y': 1.5, 'max4:x': 6, x: 3, 'lex:none': 0 });
  });

  it('the analyzer computes only what its detectors read, with the values a full row has', async () => {
    const texts = [
      'Hello there, how are you today, dear friend?',
      '[1] Enter the hall\n[2] Leave quietly\n> _',
      '🌀✨ thank you, beloved friend, for this sacred moment ✨🌀',
      'Goodbye, farewell, until next time. Take care.',
      '…',
      '[1] Enter the hall\n[2] Leave quietly\n> _',
      'She walked into the infinite light and he followed her.',
    ];
    const lean = new ConversationAnalyzer({ attractors: BUILTIN_ATTRACTORS });
    const full = new ConversationAnalyzer({ attractors: BUILTIN_ATTRACTORS, fullRows: true });
    const read = new Set(BUILTIN_ATTRACTORS.flatMap((d) => [...(d.calibrated?.model.features ?? []), ...d.signalGate.map((g) => g.feature)]));
    texts.forEach((text, i) => {
      const turn = { turn: i + 1, agentId: i % 2 ? 'b' : 'a', text };
      const a = lean.analyze(turn);
      const b = full.analyze(turn);
      expect(new Set(Object.keys(a.row))).toEqual(read);
      for (const key of read) expect(a.row[key], key).toBeCloseTo(b.row[key]!, 12);
      expect(a.events).toEqual(b.events);
    });
  });
});

describe('loop onsets moved back to where the loop began', () => {
  /** A calibration whose repetition_loop model fires on any turn that repeats most of its lines. */
  const onRepeatedLines: Calibration = {
    version: 1,
    attractors: {
      repetition_loop: {
        model: { features: ['lineRepeat'], mean: [0.5], scale: [0.1], weights: [5], bias: 0 },
        thresholds: { enter: 0.9, exit: 0.1, enterTurns: 1, exitTurns: 2 },
      },
    },
  };
  const block = ['[STATUS] archive sealed, no further input', '[MENU] 1) wake 2) re-enter 3) hold', 'awaiting a choice from the dreamer now'].join('\n');
  const chat = ['We could look at the tide tables first.', 'The harbour master keeps them by the door.', 'I will ask about the ferry times as well.', 'Bring the red notebook, it has the map.', 'The wind turned cold just after noon.'];

  it("a loop's calibrated entry is reported at the turn whose lines came back, and says where it was detected", async () => {
    // Agent a posts the block at turn 3 and again at 5, 7, 9; b chats in between.
    const turns = Array.from({ length: 10 }, (_, i) => ({ turn: i + 1, agentId: i % 2 ? 'b' : 'a', text: i % 2 === 0 && i >= 2 ? block : chat[i % chat.length]! }));
    const detectors = applyCalibration(UNCALIBRATED_ATTRACTORS.filter((d) => d.name === 'repetition_loop'), onRepeatedLines).map((d) => ({ ...d, thresholds: { ...d.thresholds, enter: 1, exit: 1 } }));
    const { events } = await analyzeTurns(turns, { detectors });
    const entered = events.find((e) => e.type === 'attractor.entered');
    if (entered?.type !== 'attractor.entered') throw new Error('no entry');
    expect(entered.turn).toBe(3);
    expect(entered.evidence).toMatchObject({ route: 'calibrated', backdatedFrom: 5 });
    const at5 = events.find((e) => e.type === 'analysis.turn' && e.turn === 5);
    expect(at5?.type === 'analysis.turn' && at5.features.repeatLag).toBe(2);
  });
});
