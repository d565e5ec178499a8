import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMain } from '../helpers/main-in-process.js';

interface Stats {
  grouping: { description: string; factors: string[] };
  groups: { key: string; factors: Record<string, string>; runs: number; analysed: number; incidence: Record<string, { count: number }>; medianOnset: Record<string, { median: number | null }> }[];
  attractors: string[];
  comparisons: { attractor: string; a: string; b: string; factor?: string; countA: number; runsA: number; countB: number; runsB: number; p: number; pHolm: number }[];
  comparisonPlan: { pairs: string; pairsOffFactor: number; uninformative: number };
  logRank: Record<string, { groups: { key: string; observed: number; n: number }[] } | null>;
}

/** Scripted models that really differ: one drifts into the bliss register early, one into wedding talk, one stays on field notes. */
const MODELS = `models:
  - id: blissy
    backend: scripted
    generator: { kind: drift, from: research, to: bliss, onsetTurn: 3, rampTurns: 2, sentences: [3, 1] }
  - id: wedder
    backend: scripted
    generator: { kind: drift, from: research, to: wedding, onsetTurn: 3, rampTurns: 2, sentences: [3, 2] }
  - id: plain
    backend: scripted
    generator: { kind: drift, from: research, to: smalltalk, onsetTurn: 40, sentences: [3, 3] }
`;

function scenario(dir: string, name: string): void {
  writeFileSync(
    join(dir, `${name}.yaml`),
    `name: ${name}
agents:
  - id: ada
    backend: scripted
    generator: { kind: cycle, templates: ["placeholder"] }
  - id: bo
    backend: scripted
    generator: { kind: cycle, templates: ["placeholder"] }
limits: { maxTurns: 14 }
`,
  );
}

async function batch(dir: string, plan: string): Promise<string> {
  writeFileSync(join(dir, 'plan.yaml'), plan);
  const r = await runMain(['batch', 'plan.yaml', '--runs-dir', 'out', '--json', '--concurrency', '4'], dir);
  expect(r.code, r.err).toBe(0);
  const out = JSON.parse(r.out.trim().split('\n').at(-1)!) as { batchDir: string; runs: { completed: number } };
  return out.batchDir;
}

async function stats(dir: string, ...args: string[]): Promise<{ out: string; err: string }> {
  const r = await runMain(['stats', ...args], dir);
  expect(r.code, r.err).toBe(0);
  return r;
}

let dir: string;
let twoScenarios: string;
let sixPairings: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stats-batch-'));
  scenario(dir, 'chat');
  scenario(dir, 'walk');
  // Two scenarios × three pairings (blissy×blissy, plain×plain, blissy×plain) × 2 repetitions = 12 runs.
  twoScenarios = await batch(dir, `name: two\nscenarios: [chat.yaml, walk.yaml]\n${MODELS.replace(/  - id: wedder\n.*\n.*\n/, '')}pairings: { selfPlay: true, mixedPlay: true }\nrepetitions: 2\n`);
  // One scenario × six pairings (3 self-play, 3 mixed) × 6 repetitions = 36 runs.
  sixPairings = await batch(dir, `name: six\nscenarios: [chat.yaml]\n${MODELS}pairings: { selfPlay: true, mixedPlay: true }\nrepetitions: 6\n`);
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('arena stats on a batch', () => {
  it('groups a batch by its matrix cells without --by: one group per scenario and pairing, repetitions pooled', async () => {
    const s = JSON.parse((await stats(dir, twoScenarios, '--json')).out.trim().split('\n').at(-1)!) as Stats;
    expect(s.grouping).toEqual({ description: 'the cells of the batch matrix: scenario × pairing (repetitions and seeds pooled)', factors: ['scenario', 'pairing'] });
    expect(s.groups.map((g) => [g.key, g.runs])).toEqual([
      ['chat · blissy × blissy', 2],
      ['chat · blissy × plain', 2],
      ['chat · plain × plain', 2],
      ['walk · blissy × blissy', 2],
      ['walk · blissy × plain', 2],
      ['walk · plain × plain', 2],
    ]);
    expect(s.groups[1]!.factors).toEqual({ scenario: 'chat', pairing: 'blissy × plain' });
    // The pairings really differ: self-play of blissy enters spiritual bliss, plain self-play never does.
    const bliss = (key: string) => s.groups.find((g) => g.key === key)!.incidence.spiritual_bliss!.count;
    expect(bliss('chat · blissy × blissy')).toBe(2);
    expect(bliss('chat · plain × plain')).toBe(0);
    // 15 pairs of groups, 6 differ in both scenario and pairing; the other 9 differ in one factor.
    expect(s.comparisonPlan.pairs).toBe('one-factor');
    expect(s.comparisonPlan.pairsOffFactor).toBe(6);
    for (const c of s.comparisons) {
      expect(c.factor === 'scenario' || c.factor === 'pairing').toBe(true);
      const [ga, gb] = [c.a, c.b].map((k) => s.groups.find((g) => g.key === k)!);
      expect(Object.keys(ga!.factors).filter((f) => ga!.factors[f] !== gb!.factors[f])).toEqual([c.factor]);
      // No uninformative table is tested.
      expect(c.countA + c.countB).toBeGreaterThan(0);
      expect(c.countA + c.countB).toBeLessThan(c.runsA + c.runsB);
      expect(c.pHolm).toBeGreaterThanOrEqual(c.p);
    }
    const tested = s.comparisons.length + s.comparisonPlan.uninformative;
    expect(tested).toBe(9 * s.attractors.length);
    expect(s.logRank.spiritual_bliss!.groups.map((g) => g.key)).toEqual(s.groups.map((g) => g.key));
  });

  it('keeps --by working, each field a factor', async () => {
    const s = JSON.parse((await stats(dir, twoScenarios, '--by', 'meta.cell.scenario', '--json')).out.trim().split('\n').at(-1)!) as Stats;
    expect(s.groups.map((g) => [g.key, g.runs])).toEqual([['chat', 6], ['walk', 6]]);
    expect(s.grouping.factors).toEqual(['meta.cell.scenario']);
  });

  it('prints no 0/6 vs 0/6 rows for 36 runs of six pairings, and says what it left out and why', async () => {
    const { out } = await stats(dir, sixPairings);
    expect(out.split('\n')[0]).toBe('grouping: the cells of the batch matrix: scenario × pairing (repetitions and seeds pooled) · 6 groups');
    const cmp = out.slice(out.indexOf('== Comparisons'), out.indexOf('== Log-rank'));
    expect(cmp).toMatch(/Holm-adjusted over \d+ tests; 6 groups, 36 counted runs ==/);
    expect(cmp).not.toMatch(/0\/6\s+0\/6/);
    expect(cmp).not.toMatch(/6\/6\s+6\/6/);
    expect(cmp).toMatch(/Left out: \d+ tables where no run entered in either group, or every run did in both/);
    // The rows that are there test something: blissy self-play against plain self-play on spiritual bliss.
    expect(cmp).toMatch(/spiritual_bliss\s+pairing\s+chat · blissy × blissy\s+chat · plain × plain\s+6\/6\s+0\/6\s+0\.0022\s+\d\.\d{4}/);
    const all = JSON.parse((await stats(dir, sixPairings, '--compare', 'all', '--json')).out.trim().split('\n').at(-1)!) as Stats;
    expect(all.comparisonPlan).toMatchObject({ pairs: 'all', pairsOffFactor: 0 });
    expect(all.comparisons.length + all.comparisonPlan.uninformative).toBe(15 * all.attractors.length);
    expect(all.comparisons.every((c) => c.countA + c.countB > 0 && c.countA + c.countB < c.runsA + c.runsB)).toBe(true);
  });

  it('refuses a bad --compare with exit 2', async () => {
    const r = await runMain(['stats', sixPairings, '--compare', 'some'], dir);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--compare must be one-factor or all, got 'some'");
  });
});
