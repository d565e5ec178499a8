import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastJsonLine, runCli } from '../helpers/cli.js';
import type { TrajectoryReading } from '../../src/mining/gather-trajectories.js';

// Two scripted "models": one speaks of the sea (kind script), one of the stars (kind cycle, drawn at random).
const SEA = `{kind: script, loop: true, lines: ["The tide came in over the grey rocks this morning.", "Gulls circled the harbour while the fishing boats returned.", "Salt spray and kelp covered the old pier again."]}`;
const STARS = `{kind: cycle, order: random, templates: ["The telescope showed Jupiter's moons in a neat line tonight.", "We counted meteors until the constellation Orion set.", "A faint nebula appeared once the sky was properly dark.", "The star charts mark a double star near Polaris."]}`;

let dir: string;

function scenario(name: string, a: string, b: string): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, `name: orbit\nagents:\n  - {id: a, name: Ada, backend: scripted, generator: ${a}}\n  - {id: b, name: Bea, backend: scripted, generator: ${b}}\nlimits: {maxTurns: 8}\n`);
  return file;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'arena-trajectories-'));
  const files = [scenario('sea-sea', SEA, SEA), scenario('stars-stars', STARS, STARS), scenario('sea-stars', SEA, STARS)];
  for (const f of files) {
    for (const seed of ['1', '2']) {
      const r = await runCli(['run', f, '--seed', seed, '--embeddings', 'offline', '--runs-dir', join(dir, 'runs'), '--quiet', '--json'], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
    }
  }
  writeFileSync(join(dir, 'plain.yaml'), `name: plain\nagents:\n  - {id: a, backend: scripted, generator: ${SEA}}\n  - {id: b, backend: scripted, generator: ${SEA}}\nlimits: {maxTurns: 2}\n`);
  const plain = await runCli(['run', join(dir, 'plain.yaml'), '--embeddings', 'none', '--runs-dir', join(dir, 'plain-runs'), '--quiet', '--json'], { cwd: dir });
  expect(plain.code, plain.stderr).toBe(0);
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('arena stats --trajectories', () => {
  it('gives per condition the projected turns, the end-state centroid, cross-seed similarity, drift and partner pull', async () => {
    const r = await runCli(['stats', join(dir, 'runs'), '--trajectories', '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const t = lastJsonLine(r.stdout) as TrajectoryReading;
    expect(t.embeddingModel).toMatch(/use/);
    expect(t.projection).toMatchObject({ method: 'pca', dims: 512, vectors: 48 });
    expect(t.projection.explainedVariance[0]).toBeGreaterThan(t.projection.explainedVariance[1]);
    expect(t.conditions.map((c) => [c.condition, c.play, c.runs, c.turns])).toEqual([
      ['orbit · script × cycle', 'mixed', 2, 16],
      ['orbit · script × script', 'self-play', 2, 16],
      ['orbit · cycle × cycle', 'self-play', 2, 16],
    ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))));
    for (const c of t.conditions) {
      expect(c.points).toHaveLength(16);
      expect(Number.isFinite(c.centroid.x) && Number.isFinite(c.centroid.y)).toBe(true);
      expect(c.crossSeedSimilarity!.pairs).toBe(1);
      expect(c.drift[0]).toEqual({ turn: 1, mean: 0, n: 2 });
    }
    const byName = new Map(t.conditions.map((c) => [c.condition, c]));
    // The sea script says the same thing whatever the seed: its two runs end in the same place.
    expect(byName.get('orbit · script × script')!.crossSeedSimilarity!.mean).toBeCloseTo(1, 3);
    // Sea and stars end apart.
    const sea = byName.get('orbit · script × script')!.centroid;
    const stars = byName.get('orbit · cycle × cycle')!.centroid;
    expect(Math.hypot(sea.x - stars.x, sea.y - stars.y)).toBeGreaterThan(0.1);
    // In mixed play each model keeps to its own lines, so neither is pulled far toward the other.
    const pull = byName.get('orbit · script × cycle')!.partnerPull;
    expect(pull.map((p) => [p.model, p.partner, p.n])).toEqual([
      ['scripted:cycle', 'scripted:script', 2],
      ['scripted:script', 'scripted:cycle', 2],
    ]);
    for (const p of pull) expect(Math.abs(p.mean!)).toBeLessThan(0.35);
  });

  it('tells the models of a batch apart by the plan’s model ids, though both are scripted drift generators', async () => {
    const b = join(dir, 'b');
    mkdirSync(b);
    writeFileSync(join(b, 'chat.yaml'), `name: chat\nagents:\n  - {id: ada, backend: scripted, generator: {kind: cycle, templates: [x]}}\n  - {id: bo, backend: scripted, generator: {kind: cycle, templates: [x]}}\nlimits: {maxTurns: 8}\n`);
    writeFileSync(
      join(b, 'plan.yaml'),
      `name: tj\nscenarios: [chat.yaml]\nmodels:\n  - {id: blissy, backend: scripted, generator: {kind: drift, from: research, to: bliss, onsetTurn: 3, rampTurns: 2}}\n  - {id: plain, backend: scripted, generator: {kind: drift, from: research, to: smalltalk, onsetTurn: 40}}\npairings: {selfPlay: true, mixedPlay: true}\nrepetitions: 2\n`,
    );
    const run = await runCli(['batch', 'plan.yaml', '--runs-dir', 'out', '--embeddings', 'offline', '--quiet', '--json'], { cwd: b });
    expect(run.code, run.stderr).toBe(0);
    const r = await runCli(['stats', join(b, 'out'), '--trajectories', '--json'], { cwd: b });
    expect(r.code, r.stderr).toBe(0);
    const t = lastJsonLine(r.stdout) as TrajectoryReading;
    expect(t.conditions.map((c) => [c.play, c.runs, c.models])).toEqual([
      ['self-play', 2, ['blissy']],
      ['mixed', 2, ['blissy', 'plain']],
      ['self-play', 2, ['plain']],
    ]);
    const mixed = t.conditions.find((c) => c.play === 'mixed')!;
    expect(mixed.partnerPull.map((p) => [p.model, p.partner, p.n])).toEqual([
      ['blissy', 'plain', 2],
      ['plain', 'blissy', 2],
    ]);
    for (const p of mixed.partnerPull) expect(Number.isFinite(p.mean)).toBe(true);
  }, 120_000);

  it('prints a table, and says how to get embeddings when the runs have none', async () => {
    const r = await runCli(['stats', join(dir, 'runs'), '--trajectories'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/48 embedded turns .* of 6 runs; projection: PCA/);
    expect(r.stdout).toMatch(/partner pull/);
    const none = await runCli(['stats', join(dir, 'plain-runs'), '--trajectories'], { cwd: dir });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no embeddings under .*--embeddings offline/);
  });
});
