import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runMain } from '../helpers/main-in-process.js';
import { loadPlan, PlanTooLargeError } from '../../src/batch/load-plan.js';
import { createBatch } from '../../src/batch/run-batch.js';
import { MANIFEST_FILE, manifestText, readManifest } from '../../src/batch/manifest.js';
import { readRunLog } from '../../src/runlog/reader.js';
import { writeBatchFixture } from './_fixtures.js';

const MODELS = `models:
  - { id: cyc, backend: scripted, generator: { kind: cycle, templates: ["cycling along at turn {turn}"] } }
  - { id: ech, backend: scripted, generator: { kind: echo } }
pairings: { selfPlay: true, mixedPlay: true }
`;

describe('plan size', () => {
  it('refuses a plan of 10^8 runs before expanding it: one line with the count, the limit and how to raise it', async () => {
    const { dir } = writeBatchFixture('scenarios: [chat.yaml]\nrepetitions: 100000000\n');
    const t0 = Date.now();
    const r = await runMain(['batch', 'plan.yaml', '--runs-dir', 'out'], dir);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^arena batch: .*plan\.yaml: the plan expands to 100,000,000 runs, more than the limit of 100,000; lower repetitions or parameters, or raise the limit with --max-runs 100000000\n$/);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(readdirSync(dir)).not.toContain('out');
  });

  it('counts pairings, parameters and repetitions; --max-runs moves the limit either way', async () => {
    const { dir, planFile } = writeBatchFixture(`scenarios: [chat.yaml]\n${MODELS}repetitions: 2\nparameters: { temperature: [0.5, 1.0] }\n`);
    // 3 pairings (cyc, ech, cyc×ech) × 2 temperatures × 2 repetitions.
    await expect(loadPlan(planFile, { maxRuns: 11 })).rejects.toThrow(PlanTooLargeError);
    expect((await loadPlan(planFile, { maxRuns: 12 })).runs).toHaveLength(12);
    const low = await runMain(['batch', 'plan.yaml', '--runs-dir', 'out', '--max-runs', '5'], dir);
    expect(low.code).toBe(2);
    expect(low.err).toContain('the plan expands to 12 runs, more than the limit of 5');
  });
});

describe('batch.json', () => {
  it('stores each distinct scenario once and a short line per run', async () => {
    const { dir, planFile } = writeBatchFixture(`scenarios: [chat.yaml]\n${MODELS}repetitions: 500\nparameters: { temperature: [0.5, 1.0] }\n`);
    const loaded = await loadPlan(planFile);
    const { batchDir } = createBatch(loaded, join(dir, 'out'));
    const text = readFileSync(join(batchDir, MANIFEST_FILE), 'utf8');
    const json = JSON.parse(text) as { v: number; scenarios: unknown[]; runs: unknown[] };
    expect(json.v).toBe(2);
    expect(json.scenarios).toHaveLength(3);
    expect(json.runs).toHaveLength(3000);
    // A persona appears once per base scenario, not once per run.
    expect(text.split('"persona": "curious"').length - 1).toBe(3);
    expect(statSync(join(batchDir, MANIFEST_FILE)).size / 3000).toBeLessThan(300);
    // Read back, every run has the scenario the plan gave it.
    const manifest = readManifest(batchDir);
    for (const [i, run] of manifest.runs.entries()) {
      expect(run.runId).toBe(loaded.runs[i]!.runId);
      expect(run.scenario).toEqual(loaded.runs[i]!.scenario);
    }
  });

  it('resumes a batch whose batch.json an earlier version wrote (version 1: every run with its whole scenario)', async () => {
    const { dir, planFile } = writeBatchFixture(`scenarios: [chat.yaml]\n${MODELS}repetitions: 2\n`);
    const loaded = await loadPlan(planFile);
    const batchDir = join(dir, 'out', 'old-batch');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(batchDir, { recursive: true });
    const v1 = {
      v: 1,
      kind: 'arena.batch',
      batchId: 'old-batch',
      createdAt: '2026-11-30T10:00:00.000Z',
      planFile: loaded.file,
      plan: loaded.plan,
      runs: loaded.runs.map((r) => ({ runId: r.runId, cell: r.cell, scenario: r.scenario, scenarioDir: r.scenarioDir })),
    };
    writeFileSync(join(batchDir, MANIFEST_FILE), JSON.stringify(v1, null, 2));
    const r = await runMain(['batch', 'resume', batchDir, '--json', '--quiet'], dir);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out.trim())).toMatchObject({ batchId: 'old-batch', runs: { planned: 6, completed: 6, failed: 0 } });
    const log = await readRunLog(join(batchDir, loaded.runs[5]!.runId, 'events.jsonl'));
    const started = log.events.find((e) => e.type === 'run.started');
    expect(started).toMatchObject({ meta: { batchId: 'old-batch', cell: loaded.runs[5]!.cell } });
    // batch.json is never rewritten.
    expect(JSON.parse(readFileSync(join(batchDir, MANIFEST_FILE), 'utf8')).v).toBe(1);
  });

  it('is written back byte for byte from what was read: opening a manifest keeps its format', async () => {
    const { dir, planFile } = writeBatchFixture(`scenarios: [chat.yaml]\n${MODELS}repetitions: 2\nparameters: { temperature: [0.5, 1.0] }\nbudget: { maxCostUsd: 3 }\n`);
    const { batchDir } = createBatch(await loadPlan(planFile), join(dir, 'out'));
    const text = readFileSync(join(batchDir, MANIFEST_FILE), 'utf8');
    const manifest = readManifest(batchDir);
    expect(manifest.plan.budget).toEqual({ maxCostUsd: 3 });
    expect(manifest.scenarios.map((b) => b.scenario.agents.map((a) => a.id))).toEqual([['ada', 'bo'], ['ada', 'bo'], ['ada', 'bo']]);
    expect(manifestText(manifest)).toBe(text);
  });

  it('checks every scenario and the plan once, when it is opened, and names the file and the place of a broken one', async () => {
    const { dir, planFile } = writeBatchFixture(`scenarios: [chat.yaml]\n${MODELS}repetitions: 2\n`);
    const loaded = await loadPlan(planFile);
    const { batchDir } = createBatch(loaded, join(dir, 'out'));
    const file = join(batchDir, MANIFEST_FILE);
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { scenarios: { scenario: { agents: { backend: string }[] } }[]; plan: Record<string, unknown> };
    const write = (json: unknown) => writeFileSync(file, JSON.stringify(json, null, 2));
    const brokenBase = structuredClone(stored);
    brokenBase.scenarios[1]!.scenario.agents[0]!.backend = 'carrier-pigeon';
    write(brokenBase);
    expect(() => readManifest(batchDir)).toThrow(new RegExp(`^${escape(file)}: scenarios\\[1\\] of the batch manifest is not valid: agents\\[0\\]`));
    write({ ...stored, plan: { ...stored.plan, concurrency: 0 } });
    expect(() => readManifest(batchDir)).toThrow(new RegExp(`^${escape(file)}: the plan in the batch manifest is not valid: concurrency: `));
    // Version 1 kept each run's whole scenario: each is checked, and a broken one is named by its run.
    const runs = loaded.runs.map((r) => ({ runId: r.runId, cell: r.cell, scenario: r.scenario as unknown, scenarioDir: r.scenarioDir }));
    runs[3] = { ...runs[3]!, scenario: { ...loaded.runs[3]!.scenario, limits: { maxTurns: -1 } } };
    write({ v: 1, kind: 'arena.batch', batchId: 'old', createdAt: '2026-11-30T10:00:00.000Z', planFile, plan: loaded.plan, runs });
    expect(() => readManifest(batchDir)).toThrow(new RegExp(`^${escape(file)}: run ${loaded.runs[3]!.runId}: the scenario of the batch manifest is not valid: limits\\.maxTurns: `));
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
