import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { captureIO, lastJson, writeRun } from './_runs.js';

interface Group {
  key: string;
  factors: Record<string, string>;
  medianOnset: Record<string, { median: number | null; lower: number | null; upper: number | null }>;
  runs: number;
  turns: number;
  incidence: Record<string, { count: number; rate: number; ci95: [number, number] }>;
  onset: Record<string, { n: number; median: number; q1: number; q3: number }>;
  survival: Record<string, { turn: number; survival: number; atRisk: number; lower: number; upper: number }[]>;
  endStates: Record<string, number>;
  failedTurns: number;
  tokens: { input: number; output: number };
  costUsd: number;
  words: { word: string; meanPerRun: number; shareOfRuns: number; max: number }[];
  emoji: { emoji: string; meanPerRun: number; shareOfRuns: number; max: number }[];
}
interface Stats {
  grouping: { description: string; factors: string[] };
  groups: Group[];
  comparisons: { attractor: string; a: string; b: string; factor?: string; p: number; pHolm: number }[];
  comparisonPlan: { pairs: string; pairsOffFactor: number; uninformative: number };
  logRank: Record<string, { chiSquare: number; df: number; p: number; groups: { key: string; observed: number; expected: number; n: number }[] } | null>;
}

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'stats-'));
  // Condition "free" (10 runs): bliss entered at turns 3, 5, 5, 8; the other runs never entered and end at
  // turns 4, 6 (unfinished), 7 and 10 ×3. Condition "task" (10 runs, 10 turns each): bliss never entered.
  const free: [number, number | undefined][] = [[10, 3], [10, 5], [6, 5], [10, 8], [4, undefined], [6, undefined], [7, undefined], [10, undefined], [10, undefined], [10, undefined]];
  free.forEach(([turns, onset], i) =>
    writeRun(join(dir, 'batch-1'), {
      runId: `free-${i}`,
      scenario: 'free',
      turns,
      ...(onset ? { entered: { bliss: onset } } : {}),
      ...(i === 5 ? { finished: null } : i === 0 ? { finished: { status: 'stopped', stopReason: 'attractor' } } : {}),
      ...(i === 1 ? { failedTurns: 2 } : {}),
      meta: { cell: { temperature: i % 2 ? 1 : 0.5 } },
    }),
  );
  for (let i = 0; i < 10; i++) writeRun(join(dir, 'batch-2'), { runId: `task-${i}`, scenario: 'task', turns: 10, ...(i < 3 ? { entered: { farewell: 9 } } : {}) });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function stats(...args: string[]): Promise<Stats> {
  const { io, out, err } = captureIO(dir);
  const code = await main(['stats', ...args, '--json'], io);
  expect(code, err()).toBe(0);
  return lastJson(out()) as Stats;
}

describe('arena stats', () => {
  it('groups by scenario × models and reports incidence, onsets and survival computed by hand', async () => {
    const s = await stats('.');
    expect(s.groups.map((g) => g.key)).toEqual(['free · m1 × m2', 'task · m1 × m2']);
    // Runs outside a batch (no batch cell in meta) are grouped by scenario and the agents' models.
    expect(s.grouping).toEqual({ description: "scenario × agents' models", factors: ['scenario', 'models'] });
    expect(s.groups[0]!.factors).toEqual({ scenario: 'free', models: 'm1 × m2' });
    const free = s.groups[0]!;
    expect(free.runs).toBe(10);
    expect(free.turns).toBe(10 + 10 + 6 + 10 + 4 + 6 + 7 + 10 + 10 + 10);
    expect(free.incidence.bliss!.count).toBe(4);
    expect(free.incidence.bliss!.rate).toBe(0.4);
    expect(free.incidence.bliss!.ci95[0]).toBeCloseTo(0.16818, 4);
    expect(free.incidence.bliss!.ci95[1]).toBeCloseTo(0.68733, 4);
    expect(free.incidence.farewell!.count).toBe(0);
    expect(free.onset.bliss).toEqual({ n: 4, median: 5, q1: 4.5, q3: 5.75 });
    // KM: 9/10 after turn 3, ×6/8 after turn 5 (8 at risk: one censored at 4), ×3/4 after turn 8 (4 at risk).
    const curve = free.survival.bliss!;
    expect(curve.find((p) => p.turn === 3)!.survival).toBeCloseTo(0.9, 12);
    expect(curve.find((p) => p.turn === 5)!.survival).toBeCloseTo(0.9 * 0.75, 12);
    expect(curve.find((p) => p.turn === 8)!.survival).toBeCloseTo(0.9 * 0.75 * 0.75, 12);
    expect(curve.at(-1)!.turn).toBe(10);
    // Greenwood's band on the log(−log S) scale after turn 3: var = 1/(10·9), se = √var / |ln 0.9|.
    const se = Math.sqrt(1 / 90) / Math.abs(Math.log(0.9));
    expect(curve.find((p) => p.turn === 3)!.lower).toBeCloseTo(0.9 ** Math.exp(1.959964 * se), 4);
    expect(curve.find((p) => p.turn === 3)!.upper).toBeCloseTo(0.9 ** Math.exp(-1.959964 * se), 4);
    // The curve ends at 0.506: the median onset is not reached.
    expect(free.medianOnset.bliss).toMatchObject({ median: null });
    expect(free.endStates).toEqual({ 'stopped/attractor': 1, 'completed/max_turns': 8, unfinished: 1 });
    expect(free.failedTurns).toBe(2);
    expect(free.tokens).toEqual({ input: free.turns * 10, output: free.turns * 5 });
    expect(free.costUsd).toBeCloseTo(free.turns * 0.01, 9);
    expect(free.words).toEqual([]);
    expect(free.emoji).toEqual([]);

    const task = s.groups[1]!;
    expect(task.incidence.farewell).toMatchObject({ count: 3, rate: 0.3 });
    expect(task.onset.farewell).toMatchObject({ median: 9 });
    // 4/10 vs 0/10: both tails of the hypergeometric, 2 × C(10,4)/C(20,4).
    const cmp = s.comparisons.find((c) => c.attractor === 'bliss')!;
    expect(cmp.p).toBeCloseTo((2 * 210) / 4845, 12);
    expect(cmp.factor).toBe('scenario');
    // farewell 0/10 vs 3/10: p = 2 × C(10,3)/C(20,3) (the table and its mirror image) = 240/1140.
    const farewell = s.comparisons.find((c) => c.attractor === 'farewell')!;
    expect(farewell.p).toBeCloseTo(240 / 1140, 12);
    // Holm over the two tests: the smaller p doubled, the larger kept (not below it).
    expect(cmp.pHolm).toBeCloseTo(2 * cmp.p, 12);
    expect(farewell.pHolm).toBeCloseTo(Math.max(2 * cmp.p, farewell.p), 12);
    expect(s.comparisonPlan).toEqual({ pairs: 'one-factor', pairsOffFactor: 0, uninformative: 0 });
    // Log-rank of bliss: the 4 entries are all in "free", none in "task".
    expect(s.logRank.bliss).toMatchObject({ df: 1, groups: [{ key: 'free · m1 × m2', observed: 4, n: 10 }, { key: 'task · m1 × m2', observed: 0, n: 10 }] });
    expect(s.logRank.bliss!.p).toBeLessThan(0.05);
    const expected = s.logRank.bliss!.groups.reduce((n, g) => n + g.expected, 0);
    expect(expected).toBeCloseTo(4, 9);
  });

  it('gives the Kaplan–Meier median onset with its interval once the curve passes one half', async () => {
    const half = mkdtempSync(join(tmpdir(), 'stats-median-'));
    try {
      // 8 runs: entries at turns 2, 3, 3, 4, 5, 6; two never enter (10 turns). S(3) = 5/8, S(4) = 4/8: median 4.
      [2, 3, 3, 4, 5, 6, undefined, undefined].forEach((onset, i) => writeRun(half, { runId: `h${i}`, turns: 10, attractors: ['bliss'], ...(onset ? { entered: { bliss: onset } } : {}) }));
      const { io, out } = captureIO(half);
      expect(await main(['stats', '.', '--json'], io)).toBe(0);
      const m = (lastJson(out()) as Stats).groups[0]!.medianOnset.bliss!;
      expect(m.median).toBe(4);
      expect(m.lower).not.toBeNull();
      expect(m.lower!).toBeLessThanOrEqual(4);
      expect(m.upper === null || m.upper >= 4).toBe(true);
      const text = captureIO(half);
      expect(await main(['stats', '.'], text.io)).toBe(0);
      expect(text.out()).toContain(`4 [${m.lower}, ${m.upper ?? 'not reached'}]`);
    } finally {
      rmSync(half, { recursive: true, force: true });
    }
  });

  it('groups by any field with --by, or not at all with --by none', async () => {
    const byTemp = await stats('batch-1', '--by', 'meta.cell.temperature');
    expect(byTemp.groups.map((g) => [g.key, g.runs])).toEqual([['0.5', 5], ['1', 5]]);
    expect(byTemp.grouping).toEqual({ description: 'by meta.cell.temperature (--by)', factors: ['meta.cell.temperature'] });
    expect(byTemp.groups[0]!.factors).toEqual({ 'meta.cell.temperature': '0.5' });
    const all = await stats('.', '--by', 'none');
    expect(all.groups).toHaveLength(1);
    expect(all.groups[0]).toMatchObject({ key: 'all', runs: 20 });
    expect(all.groups[0]!.incidence.bliss!.count).toBe(4);
    const byEnd = await stats('.', '--by', 'stopReason');
    expect(byEnd.groups.map((g) => g.key)).toEqual(['attractor', 'max_turns', 'unfinished']);
  });

  it('prints tables, Markdown and CSV for people and spreadsheets', async () => {
    const run = async (format: string) => {
      const { io, out } = captureIO(dir);
      expect(await main(['stats', '.', '--format', format], io)).toBe(0);
      return out();
    };
    const table = await run('table');
    expect(table.split('\n')[0]).toBe("grouping: scenario × agents' models · 2 groups");
    expect(table).toMatch(/bliss\s+4\/10\s+40\.0%\s+16\.8% – 68\.7%\s+5 \(4\.5–5\.8\)\s+not reached\s+50\.6% \[\d+\.\d%–\d+\.\d%\] after turn 10/);
    expect(table).toContain('Attractor incidence over the 10 analysed runs');
    expect(table).toMatch(/== Comparisons: Fisher exact test \(two-sided\) of incidence between pairs of groups that differ in exactly one factor, Holm-adjusted over 2 tests; 2 groups, 20 counted runs ==/);
    expect(table).toMatch(/bliss\s+scenario\s+free · m1 × m2\s+task · m1 × m2\s+4\/10\s+0\/10\s+0\.0867\s+0\.1734/);
    // The log-rank table comes after the incidence tables and the comparisons.
    expect(table.indexOf('== Log-rank tests')).toBeGreaterThan(table.indexOf('== Comparisons'));
    expect(table).toMatch(/bliss\s+20\s+5\.88\s+1\s+0\.0153\s+free · m1 × m2: 4 \/ 1\.7/);
    const md = await run('md');
    expect(md.split('\n')[0]).toBe("**Grouping:** scenario × agents' models · 2 groups");
    expect(md).toMatch(/\| bliss \| 4\/10 \| 40\.0% \| 16\.8% – 68\.7% \| 5 \(4\.5–5\.8\) \| not reached \| 50\.6% \[[^\]]+\] after turn 10 \|/);
    const csv = (await run('csv')).split('\n');
    expect(csv[0]).toBe("# grouping: scenario × agents' models");
    expect(csv[1]).toBe('group,table,item,metric,value');
    expect(csv).toContain('free · m1 × m2,factor,scenario,value,free');
    expect(csv).toContain('free · m1 × m2,incidence,bliss,count,4');
    expect(csv).toContain('free · m1 × m2,survival,bliss,turn 3,0.9');
  });

  it('reads a crashed log up to its cut-off last line and reports the lines it could not read', async () => {
    const crash = mkdtempSync(join(tmpdir(), 'stats-crash-'));
    try {
      writeRun(crash, { runId: 'c', turns: 3, entered: { bliss: 2 }, finished: null });
      const file = join(crash, 'c', 'events.jsonl');
      appendFileSync(file, '{"not": "an event"}\n{"v":1,"seq":50,"ts":"t","runId":"c","type":"turn.completed","turn":4,"agentI');
      const { io, out, err } = captureIO(crash);
      expect(await main(['stats', '.', '--json'], io)).toBe(0);
      const g = (lastJson(out()) as Stats).groups[0]!;
      expect(g).toMatchObject({ runs: 1, turns: 3, endStates: { unfinished: 1 } });
      expect(g.incidence.bliss!.count).toBe(1);
      expect(err()).toContain(`${file}:`);
      expect(err()).toContain('cut off mid-write');
    } finally {
      rmSync(crash, { recursive: true, force: true });
    }
  });

  it('leaves pairwise tests out, saying why, when there are more than 5,000 one-factor pairs (one group per run)', async () => {
    const many = mkdtempSync(join(tmpdir(), 'stats-many-'));
    try {
      // 101 groups of one run each, differing in runId only: 101 × 100 / 2 = 5,050 pairs.
      for (let i = 0; i < 101; i++) writeRun(many, { runId: `m${i}`, turns: 2, attractors: ['bliss'], ...(i % 2 ? { entered: { bliss: 1 } } : {}) });
      const json = captureIO(many);
      expect(await main(['stats', '.', '--by', 'runId', '--json'], json.io)).toBe(0);
      const s = lastJson(json.out()) as Stats & { comparisonPlan: { leftOut?: string }; logRankPairs: unknown[] };
      expect(s.groups).toHaveLength(101);
      expect(s.comparisons).toEqual([]);
      expect(s.logRankPairs).toEqual([]);
      expect(s.comparisonPlan.leftOut).toBe('5050 pairs of groups differ in one factor (at most 5000); group more coarsely with --by');
      // The test between all groups is still made.
      expect(s.logRank.bliss).toMatchObject({ df: 100 });
      const text = captureIO(many);
      expect(await main(['stats', '.', '--by', 'runId'], text.io)).toBe(0);
      expect(text.out()).toContain('Left out: no comparison: 5050 pairs of groups differ in one factor (at most 5000); group more coarsely with --by.');
    } finally {
      rmSync(many, { recursive: true, force: true });
    }
  });

  it('rejects a bad format with exit code 2', async () => {
    const { io, err } = captureIO(dir);
    expect(await main(['stats', '.', '--format', 'xml'], io)).toBe(2);
    expect(err()).toContain('--format');
  });
});
