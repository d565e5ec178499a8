import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { writeJudgedRuns } from './_judged-runs.js';
import { captureIO, lastJson } from './_runs.js';

const MINI = '--judge=openai:gpt-4o-mini';

interface Incidence {
  count: number;
  rate: number;
  ci95: [number, number];
  n?: number;
  leftOut?: number;
}
interface Stats {
  source: string;
  judge?: { backend: string; model: string };
  groups: { key: string; runs: number; analysed: number; unanalysed: number; incidence: Record<string, Incidence>; onset: Record<string, { n: number; median: number | null }>; survival: Record<string, { turn: number; survival: number }[]> }[];
  attractors: string[];
  comparisons: { attractor: string; a: string; b: string; countA: number; runsA: number; countB: number; runsB: number; p: number; pHolm: number }[];
  comparisonPlan: { pairs: string; pairsOffFactor: number; uninformative: number };
}
interface Agreement {
  judge: { backend: string; model: string };
  method: string;
  runs: number;
  attractors: { attractor: string; n: number; leftOut: number; table: { both: number; judgeOnly: number; detectorOnly: number; neither: number }; agreement: number | null; kappa: number | null; se: number | null; ci95: [number, number] | null; undefinedBecause?: string }[];
}

let dir: string;
const runs = () => join(dir, 'runs');

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'stats-judge-'));
  writeJudgedRuns(runs());
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function arena(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const { io, out, err } = captureIO(dir);
  const code = await main(args, io);
  return { code, out: out(), err: err() };
}

async function stats(...args: string[]): Promise<Stats> {
  const r = await arena('stats', 'runs', '--by', 'none', ...args, '--json');
  expect(r.code, r.err).toBe(0);
  return lastJson(r.out) as Stats;
}

describe('arena stats --source judge', () => {
  it('by default counts the detectors, as before: no judge fields, every analysed run in every denominator', async () => {
    const s = await stats();
    expect(s.source).toBe('detector');
    expect(s.judge).toBeUndefined();
    expect(s.groups[0]!.incidence['bliss']).toEqual({ count: 6, rate: 0.6, ci95: expect.any(Array) });
    expect(s.groups[0]!.incidence['farewell']).toEqual({ count: 0, rate: 0, ci95: [0, expect.any(Number)] });
    expect(s.groups[0]!.analysed).toBe(10);
  });

  it("counts the judge's verdicts, leaving out runs whose judgement is missing, failed or partial per attractor", async () => {
    const s = await stats('--source', 'judge', MINI);
    expect(s.source).toBe('judge');
    expect(s.judge).toEqual({ backend: 'openai', model: 'gpt-4o-mini' });
    const g = s.groups[0]!;
    // Judged at all: every run but r7.
    expect(g).toMatchObject({ runs: 10, analysed: 9, unanalysed: 1 });
    // bliss: present r0 r1 r2 r8 r9, absent r3 r4; left out r5 (refusal), r6 (half malformed, nothing found), r7.
    expect(g.incidence['bliss']).toMatchObject({ count: 5, n: 7, leftOut: 3, rate: 5 / 7 });
    // farewell: present r1, absent r0 r2 r3 r4 r9; r8's second half failed, so it is left out too.
    expect(g.incidence['farewell']).toMatchObject({ count: 1, n: 6, leftOut: 4 });
    // The onset is the judge's onsetTurn: 2, 6, 4, 3, 5 (the detectors said 3, 5, –, 3, 5).
    expect(g.onset['bliss']).toMatchObject({ n: 5, median: 4 });
    // Kaplan–Meier over the 7 runs with a verdict: one entry at each of turns 2…6 (1 − k/7), two censored at turn 8.
    expect(g.survival['bliss']!.map((p) => [p.turn, Number(p.survival.toFixed(4))])).toEqual([[1, 1], [2, 0.8571], [3, 0.7143], [4, 0.5714], [5, 0.4286], [6, 0.2857], [7, 0.2857], [8, 0.2857]]);
  });

  it('changes the Fisher comparison denominators to the runs with a verdict', async () => {
    const s = await stats('--source', 'judge', MINI, '--by', 'runId');
    // bliss has a verdict in 7 runs (r0 r1 r2 r8 r9 entered, r3 r4 did not): each is a group of one run. Only a
    // pair of one that entered and one that did not can differ (5 × 2 tables); the other 11 pairs are left out.
    const bliss = s.comparisons.filter((c) => c.attractor === 'bliss');
    expect(bliss).toHaveLength(10);
    for (const c of bliss) expect([c.runsA, c.runsB, c.countA + c.countB]).toEqual([1, 1, 1]);
    // A run with no verdict (r5, r6, r7) is in no comparison of bliss.
    expect(bliss.filter((c) => ['r5', 'r6', 'r7'].includes(c.a) || ['r5', 'r6', 'r7'].includes(c.b))).toEqual([]);
    // farewell: verdicts in 6 runs, one entered: 5 tables tested, 10 left out.
    expect(s.comparisons.filter((c) => c.attractor === 'farewell')).toHaveLength(5);
    expect(s.comparisonPlan).toEqual({ pairs: 'one-factor', pairsOffFactor: 0, uninformative: 11 + 10 });
    // Holm over the 15 tests: each 1-vs-1 table has p = 1, so every adjusted p is 1 too.
    for (const c of s.comparisons) expect([c.p, c.pHolm]).toEqual([1, 1]);
  });

  it('says in the table which judge counts and how many runs were left out, and warns about the gaps', async () => {
    const r = await arena('stats', 'runs', '--by', 'none', '--source', 'judge', MINI);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('verdicts of the judge openai:gpt-4o-mini');
    expect(r.out).toContain('(1 without a judgement by openai:gpt-4o-mini)');
    expect(r.out).toMatch(/left out \(no verdict\)/);
    expect(r.out).toMatch(/bliss\s+5\/7\s+71\.4%.*\s3\n/);
    expect(r.err).toContain('1 run has no judgement by openai:gpt-4o-mini');
    expect(r.err).toContain('3 runs judged by openai:gpt-4o-mini with a failed window or turns no window covered');
  });

  it('asks which judge when the runs hold several, naming them; and rejects a judge no run has', async () => {
    const ambiguous = await arena('stats', 'runs', '--source', 'judge');
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.err.trim()).toBe('arena stats: these runs hold judgements by openai:gpt-4o, openai:gpt-4o-mini; choose one with --judge BACKEND:MODEL');
    const absent = await arena('stats', 'runs', '--source', 'judge', '--judge', 'ollama:llama3');
    expect(absent.code).toBe(2);
    expect(absent.err).toContain('--judge ollama:llama3: no run holds a judgement by it (judges in these runs: openai:gpt-4o, openai:gpt-4o-mini)');
    const other = await stats('--source', 'judge', '--judge', 'openai:gpt-4o');
    expect(other.groups[0]!.incidence['bliss']).toMatchObject({ count: 0, n: 1, leftOut: 9 });
    const misplaced = await arena('stats', 'runs', MINI);
    expect(misplaced.code).toBe(2);
    expect(misplaced.err).toContain('--judge applies to --source judge and --agreement only');
    const bad = await arena('stats', 'runs', '--source', 'labels');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("--source must be detector or judge, got 'labels'");
  });
});

describe('arena stats --agreement', () => {
  it("gives Cohen's κ per attractor over the runs both rated, with the 2×2 table and its interval", async () => {
    const r = await arena('stats', 'runs', '--agreement', MINI, '--json');
    expect(r.code, r.err).toBe(0);
    const a = lastJson(r.out) as Agreement;
    expect(a.judge).toEqual({ backend: 'openai', model: 'gpt-4o-mini' });
    expect(a.runs).toBe(10);
    expect(a.method).toMatch(/Fleiss, Cohen & Everitt/);
    const bliss = a.attractors.find((x) => x.attractor === 'bliss')!;
    // Both rated r0 r1 r2 r3 r4 r8 r9: both present r0 r1 r8 r9, judge only r2, detectors only r3, neither r4.
    expect(bliss.table).toEqual({ both: 4, judgeOnly: 1, detectorOnly: 1, neither: 1 });
    expect(bliss).toMatchObject({ n: 7, leftOut: 3 });
    // p_o = 5/7; both say present for 5/7, so p_e = 25/49 + 4/49 = 29/49 and κ = (35 − 29) / (49 − 29) = 0.3.
    // se (Fleiss–Cohen–Everitt) = √(0.36/7 + 0.49·2/7 − (0.3 − 0.7·29/49)²) / ((20/49)·√7) = 0.391089.
    expect(bliss.agreement).toBeCloseTo(5 / 7, 12);
    expect(bliss.kappa).toBeCloseTo(0.3, 12);
    expect(bliss.se).toBeCloseTo(0.391089, 5);
    expect(bliss.ci95![0]).toBeCloseTo(0.3 - 1.959964 * 0.391089, 4);
    expect(bliss.ci95![1]).toBe(1);
    // farewell: the detectors never entered it, so κ is undefined, and said so, not 0.
    const farewell = a.attractors.find((x) => x.attractor === 'farewell')!;
    expect(farewell).toMatchObject({ n: 6, leftOut: 4, table: { both: 0, judgeOnly: 1, detectorOnly: 0, neither: 5 }, kappa: null, ci95: null, undefinedBecause: 'the detectors said absent for every run' });
    expect(farewell.agreement).toBeCloseTo(5 / 6, 12);
  });

  it('prints the table with κ undefined spelled out and the interval method', async () => {
    const r = await arena('stats', 'runs', '--agreement', MINI);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain("Cohen's κ between the judge openai:gpt-4o-mini and the detectors");
    expect(r.out).toMatch(/bliss\s+7\s+4\s+1\s+1\s+1\s+71\.4%\s+0\.30\s+-0\.47 – 1\.00\s+3/);
    expect(r.out).toMatch(/farewell\s+6\s+0\s+1\s+0\s+5\s+83\.3%\s+undefined\s+– \(the detectors said absent for every run\)\s+4/);
    expect(r.out).not.toMatch(/NaN/);
    expect(r.out).toContain('Fleiss, Cohen & Everitt (1969)');
    const md = await arena('stats', 'runs', '--agreement', MINI, '--format', 'md');
    expect(md.out).toContain('| bliss | 7 | 4 | 1 | 1 | 1 | 71.4% | 0.30 |');
  });

  it('needs --judge among several judges, and refuses --source with it', async () => {
    const r = await arena('stats', 'runs', '--agreement');
    expect(r.code).toBe(2);
    expect(r.err).toContain('choose one with --judge BACKEND:MODEL');
    const s = await arena('stats', 'runs', '--agreement', '--source', 'judge', MINI);
    expect(s.code).toBe(2);
    expect(s.err).toContain('--agreement compares the judge with the detectors; leave out --source');
  });
});
