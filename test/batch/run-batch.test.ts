import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPlan } from '../../src/batch/load-plan.js';
import { localExecutor } from '../../src/batch/local-executor.js';
import { MANIFEST_FILE, readManifest } from '../../src/batch/manifest.js';
import { createBatch, runBatch } from '../../src/batch/run-batch.js';
import { readRunLog } from '../../src/runlog/reader.js';
import { silentLogger } from '../../src/logger.js';
import type { Agent } from '../../src/agents/agent.js';
import type { ManifestRun } from '../../src/batch/manifest.js';
import type { Executor } from '../../src/batch/scheduler.js';
import { pricedAgent, writeBatchFixture } from './_fixtures.js';

async function setUp(plan: string, fixture: { maxTurns?: number; chunkDelayMs?: number } = {}) {
  const { dir, planFile } = writeBatchFixture(plan, fixture);
  const loaded = await loadPlan(planFile);
  const { manifest, batchDir } = createBatch(loaded, join(dir, 'runs'));
  return { dir, manifest, batchDir };
}

function executor(batchId: string, batchDir: string, agentsFor?: (run: ManifestRun) => Agent[] | undefined) {
  return localExecutor({ batchId, batchDir, env: {}, logger: silentLogger(), ...(agentsFor ? { agentsFor } : {}) });
}

describe('runBatch', () => {
  it('runs every cell into <batchDir>/<runId>, records the cell, and writes the manifest first and the summary last', async () => {
    const { manifest, batchDir } = await setUp(`scenarios: [chat.yaml]
models:
  - { id: cyc, backend: scripted, generator: { kind: cycle, templates: ["cyc {turn}"] } }
  - { id: ech, backend: scripted, generator: { kind: echo } }
pairings: { selfPlay: true, mixedPlay: true }
parameters: { temperature: [0.5, 1] }
`);
    let manifestAtFirstRun: number | undefined;
    const summary = await runBatch(manifest, batchDir, {
      executor: executor(manifest.batchId, batchDir, () => {
        manifestAtFirstRun ??= readManifest(batchDir).runs.length;
        return undefined;
      }),
    });
    expect(manifestAtFirstRun).toBe(6);
    expect(summary.runs).toEqual({ planned: 6, completed: 6, failed: 0, skipped: 0, interrupted: 0 });
    for (const run of manifest.runs) {
      const log = await readRunLog(join(batchDir, run.runId, 'events.jsonl'));
      const started = log.events[0]!;
      expect(started.type === 'run.started' && started.meta).toEqual({ batchId: manifest.batchId, cell: run.cell });
      expect(log.events.filter((e) => e.type === 'turn.completed')).toHaveLength(4);
    }
    const mixed = manifest.runs.find((r) => r.cell.pairing?.join() === 'cyc,ech')!;
    const log = await readRunLog(join(batchDir, mixed.runId, 'events.jsonl'));
    const started = log.events[0]!;
    expect(started.type === 'run.started' && started.agents.map((a) => a.model)).toEqual(['cycle', 'echo']);
    expect(JSON.parse(readFileSync(join(batchDir, 'summary.json'), 'utf8')).results).toHaveLength(6);
    expect(readFileSync(join(batchDir, 'summary.md'), 'utf8')).toMatch(/\| chat \| cyc × ech \| 2 \| 2 \| 0 \| 4\.0 \|/);
    expect(existsSync(join(batchDir, MANIFEST_FILE))).toBe(true);
  });

  it('starts no run once spent plus projected cost would pass the budget, and lists the skipped runs', async () => {
    // Two priced agents at $0.10 a turn, 4 turns: $0.40 a run; $1.00 pays for two runs, not three.
    const { manifest, batchDir } = await setUp('scenarios: [chat.yaml]\nrepetitions: 6\nconcurrency: 3\nbudget: { maxCostUsd: 1.0, estimatePerRunUsd: 0.4 }\n');
    const summary = await runBatch(manifest, batchDir, {
      executor: executor(manifest.batchId, batchDir, () => [pricedAgent('ada', 0.1), pricedAgent('bo', 0.1)]),
    });
    expect(summary.runs).toMatchObject({ planned: 6, completed: 2, skipped: 4 });
    expect(summary.costUsd).toBeCloseTo(0.8);
    expect(summary.skipped.map((s) => s.reason)).toEqual(['budget', 'budget', 'budget', 'budget']);
    expect(readFileSync(join(batchDir, 'summary.md'), 'utf8')).toMatch(
      /4 not started because the cost budget would have been passed: 0003-chat-r3, 0004-chat-r4, 0005-chat-r5, 0006-chat-r6/,
    );
    expect(existsSync(join(batchDir, '0003-chat-r3'))).toBe(false);

    // A resume with a larger budget runs the skipped ones and keeps the two that finished.
    const more = await runBatch(manifest, batchDir, {
      budgetUsd: 10,
      executor: executor(manifest.batchId, batchDir, () => [pricedAgent('ada', 0.1), pricedAgent('bo', 0.1)]),
    });
    expect(more.runs).toMatchObject({ completed: 6, skipped: 0 });
    expect(more.costUsd).toBeCloseTo(2.4);
  });

  it('interrupts running runs and skips the rest at the wall-time limit; resume finishes them', async () => {
    const { manifest, batchDir } = await setUp('scenarios: [chat.yaml]\nrepetitions: 5\nconcurrency: 2\nlimits: { wallTimeSec: 0.4 }\n', {
      maxTurns: 6,
      chunkDelayMs: 25,
    });
    const summary = await runBatch(manifest, batchDir, { executor: executor(manifest.batchId, batchDir) });
    expect(summary.stoppedBy).toBe('wall_time');
    expect(summary.runs.interrupted).toBe(2);
    expect(summary.skipped.every((s) => s.reason === 'wall_time')).toBe(true);
    expect(summary.runs.skipped).toBe(3);

    const resumed = await runBatch(manifest, batchDir, { executor: executor(manifest.batchId, batchDir), concurrency: 5, wallTimeSec: 60 });
    expect(resumed.stoppedBy).toBeNull();
    expect(resumed.runs).toMatchObject({ completed: 5, interrupted: 0 });
    for (const run of manifest.runs) {
      const log = await readRunLog(join(batchDir, run.runId, 'events.jsonl'));
      expect(log.events.filter((e) => e.type === 'turn.completed').map((e) => (e.type === 'turn.completed' ? e.turn : 0))).toEqual([1, 2, 3, 4, 5, 6]);
    }
  });

  it('a process pool stopped while it still has runs waiting to start ends them as interrupted; resume runs every turn once', async () => {
    // Child processes run the built code.
    const { processPool } = await import('../../dist/batch/process-pool.js');
    // The stop races the child starting its runs a group at a time; on a busy machine the child sometimes
    // starts every run it was sent before the stop arrives. Up to three tries, until some run was still waiting.
    let tried: { manifest: Awaited<ReturnType<typeof setUp>>['manifest']; batchDir: string; started: number; interrupted: number } | undefined;
    for (let attempt = 0; attempt < 3 && (tried === undefined || tried.started >= tried.interrupted); attempt++) {
      const { manifest, batchDir } = await setUp('scenarios: [chat.yaml]\nrepetitions: 150\nconcurrency: 150\n', { maxTurns: 3, chunkDelayMs: 20 });
      const pool = await processPool({ batchId: manifest.batchId, batchDir, processes: 1, env: {}, logLevel: 'silent' });
      const stop = new AbortController();
      // Once the first group of runs has been sent to the child, before it could start them all.
      setImmediate(() => stop.abort());
      const summary = await runBatch(manifest, batchDir, { executor: pool, signal: stop.signal });
      await pool.close();
      expect(summary.stoppedBy).toBe('interrupted');
      expect(summary.runs.interrupted + summary.runs.skipped).toBe(150);
      expect(summary.runs.interrupted).toBeGreaterThan(0);
      const started = manifest.runs.filter((r) => existsSync(join(batchDir, r.runId))).length;
      expect(started).toBeLessThanOrEqual(summary.runs.interrupted);
      tried = { manifest, batchDir, started, interrupted: summary.runs.interrupted };
    }
    const { manifest, batchDir } = tried!;
    // Those still waiting in the child were never started: no folder, nothing written.
    expect(tried!.started).toBeLessThan(tried!.interrupted);

    const resumed = await runBatch(manifest, batchDir, { executor: executor(manifest.batchId, batchDir) });
    expect(resumed.runs).toMatchObject({ completed: 150, interrupted: 0 });
    for (const run of manifest.runs) {
      const log = await readRunLog(join(batchDir, run.runId, 'events.jsonl'));
      expect(log.events.filter((e) => e.type === 'turn.completed').map((e) => (e.type === 'turn.completed' ? e.turn : 0))).toEqual([1, 2, 3]);
    }
  });

  it('a run a process pool never started keeps the turns it had from an earlier invocation in the summary', async () => {
    const { processPool } = await import('../../dist/batch/process-pool.js');
    const { manifest, batchDir } = await setUp('scenarios: [chat.yaml]\nrepetitions: 150\nconcurrency: 150\n', { maxTurns: 10, chunkDelayMs: 20 });
    // First invocation: every run gets a few turns in, then Ctrl-C.
    const first = new AbortController();
    setTimeout(() => first.abort(), 400);
    const partial = await runBatch(manifest, batchDir, { executor: executor(manifest.batchId, batchDir), signal: first.signal });
    expect(partial.runs.interrupted).toBe(150);
    expect(partial.turns).toBeGreaterThan(0);
    // Second, through a pool, stopped before the child could start most of them.
    const pool = await processPool({ batchId: manifest.batchId, batchDir, processes: 1, env: {}, logLevel: 'silent' });
    const second = new AbortController();
    let sent = 0;
    // Ctrl-C right after the first group of runs went to the child.
    const stopAfterFirstGroup: Executor = {
      execute: (run, ctx) => {
        const outcome = pool.execute(run, ctx);
        if (++sent === 100) second.abort();
        return outcome;
      },
    };
    const again = await runBatch(manifest, batchDir, { executor: stopAfterFirstGroup, signal: second.signal });
    await pool.close();
    expect(again.runs.interrupted).toBeGreaterThan(0);
    // Each run's result counts the turns in its log, started here or not.
    for (const r of again.results) {
      const log = await readRunLog(join(batchDir, r.runId, 'events.jsonl'));
      expect(r.turns).toBe(log.events.filter((e) => e.type === 'turn.completed').length);
      expect(r.turns).toBeGreaterThan(0);
    }

    const resumed = await runBatch(manifest, batchDir, { executor: executor(manifest.batchId, batchDir) });
    expect(resumed.runs).toMatchObject({ completed: 150, interrupted: 0 });
    expect(resumed.turns).toBe(1500);
  });

  it('reports a run whose log cannot be continued as failed and leaves it alone', async () => {
    const { manifest, batchDir } = await setUp('scenarios: [chat.yaml]\nrepetitions: 2\n');
    await runBatch(manifest, batchDir, { executor: executor(manifest.batchId, batchDir) });
    const file = join(batchDir, '0001-chat-r1', 'events.jsonl');
    // Drop turn 2 and the ending: the log now skips from turn 1 to turn 3.
    const lines = readFileSync(file, 'utf8').split('\n').filter((l) => !/"type":"(turn\.completed","turn":2|run\.finished)/.test(l) && !l.includes('"turn":2,"agentId":"bo","text"'));
    writeFileSync(file, lines.join('\n'));
    const broken = readFileSync(file, 'utf8');
    const summary = await runBatch(manifest, batchDir, { executor: executor(manifest.batchId, batchDir) });
    expect(summary.runs).toMatchObject({ completed: 1, failed: 1 });
    expect(summary.results.find((r) => r.runId === '0001-chat-r1')).toMatchObject({ status: 'failed', stopReason: 'unreadable_log', error: expect.stringMatching(/turn 3 follows turn 1/) });
    expect(readFileSync(file, 'utf8')).toBe(broken);
  });
});
