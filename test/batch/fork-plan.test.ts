import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePlan } from '../../src/batch/load-plan.js';
import type { ManifestRun } from '../../src/batch/manifest.js';
import type { RunOutcome } from '../../src/batch/outcome.js';
import { schedule, type Executor } from '../../src/batch/scheduler.js';
import { createBatch, runBatch } from '../../src/batch/run-batch.js';
import { childSeed, forkMetaOf } from '../../src/fork/fork-meta.js';
import { lastJsonLine, runCli, spawnCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp-dir.js';
import { readEvents, startedOf, turnTexts, writeScenario } from '../fork/_fork-fixtures.js';
import { finishedRuns, until } from './_runs-on-disk.js';

const FORKS = `forks:
  at: [2, 4]
  samples: 2
  perturbations:
    - {}
    - { inject: "A knock at the door.", as: narrator }
`;

async function planIn(dir: string, text: string, maxTurns = 6) {
  writeScenario(dir, { maxTurns });
  const file = join(dir, 'plan.yaml');
  writeFileSync(file, text);
  return parsePlan(text, file);
}

describe('fork plans', () => {
  it('expand every run into parent × turn × condition × sample children, after their parents', async () => {
    const loaded = await planIn(tempDir(), `scenarios: [pair.yaml]\nrepetitions: 2\n${FORKS}`);
    expect(loaded.runs).toHaveLength(2 + 2 * 2 * 2 * 2);
    const [p1, p2] = loaded.runs;
    expect(p1!.fork).toBeUndefined();
    const children = loaded.runs.slice(2);
    expect(children.slice(0, 4).map((r) => r.runId)).toEqual([`${p1!.runId}-t2-p1-s1`, `${p1!.runId}-t2-p1-s2`, `${p1!.runId}-t2-p2-s1`, `${p1!.runId}-t2-p2-s2`]);
    expect(children.filter((r) => r.fork?.parentRunId === p2!.runId)).toHaveLength(8);
    const injected = children[2]!;
    expect(injected.fork).toEqual({ parentRunId: p1!.runId, parentDir: p1!.runId, atTurn: 2, sample: 1, perturbation: { inject: { text: 'A knock at the door.', as: 'narrator' } } });
    expect(injected.cell).toMatchObject({ index: 5, repetition: 1, seed: childSeed(p1!.cell.seed, 2, 1), fork: { parentRunId: p1!.runId, atTurn: 2, condition: 'inject:narrator:A knock at the door.' } });
    expect(injected.scenario.seed).toBe(injected.cell.seed);
    expect(children[0]!.fork?.perturbation).toBeNull();
    expect(children[0]!.cell.fork?.condition).toBe('resample');
  });

  it('choose runs by number or id pattern, and give changed agents a base scenario of their own', async () => {
    const loaded = await planIn(
      tempDir(),
      `scenarios: [pair.yaml]\nrepetitions: 3\nforks:\n  at: [3]\n  runs: [2, "*-r3"]\n  perturbations: [{ agents: { bo: "openai:m" } }]\n  maxTurns: 5\n`,
    );
    const children = loaded.runs.filter((r) => r.fork);
    expect(children.map((r) => r.fork!.parentRunId)).toEqual([loaded.runs[1]!.runId, loaded.runs[2]!.runId]);
    expect(loaded.bases).toHaveLength(2);
    expect(children[0]!.scenario.agents[1]).toMatchObject({ id: 'bo', backend: 'openai', model: 'm', persona: 'A patient listener.' });
    expect(children[0]!.scenario.limits.maxTurns).toBe(5);
    expect(loaded.runs[0]!.scenario.agents[1]!.backend).toBe('scripted');
  });

  it.each([
    ['an empty prefill', 'forks: { at: [2], perturbations: [{ prefill: "" }] }', /forks\.perturbations\[0\]\.prefill/],
    ['an injection from nobody', 'forks: { at: [2], perturbations: [{ inject: "hi", as: ghost }] }', /forks\.perturbations\[0\]\.as: no agent 'ghost'/],
    ['a fork turn at the turn limit', 'forks: { at: [2, 6] }', /forks\.at\[1\]: forking run .* at turn 6 leaves no turn to generate/],
    ['a selector that chooses nothing', 'forks: { at: [2], runs: ["nope-*"] }', /forks\.runs\[0\]: 'nope-\*' chooses no run/],
    ['an agent the scenario lacks', 'forks: { at: [2], perturbations: [{ agents: { zed: "openai:m" } }] }', /forks\.perturbations\[0\]\.agents\.zed: no agent 'zed'/],
  ])('refuse %s with the place in the plan', async (_name, forks, message) => {
    await expect(planIn(tempDir(), `scenarios: [pair.yaml]\n${forks}\n`)).rejects.toThrow(message);
  });

  it('schedule a fork once its parent ended, and skip it when the parent ended before the fork turn', async () => {
    const run = (runId: string, fork?: { parent: string; at: number }): ManifestRun =>
      ({
        runId,
        cell: { index: 1, scenario: 's', scenarioFile: '', pairing: null, repetition: 1, seed: 1 },
        scenario: {},
        scenarioDir: '.',
        ...(fork ? { fork: { parentRunId: fork.parent, parentDir: fork.parent, atTurn: fork.at, sample: 1, perturbation: null } } : {}),
      }) as unknown as ManifestRun;
    const events: string[] = [];
    const turnsOf: Record<string, number> = { long: 6, short: 2 };
    const executor: Executor = {
      async execute(r): Promise<RunOutcome> {
        events.push(`start ${r.runId}`);
        await new Promise((res) => setTimeout(res, 5));
        events.push(`end ${r.runId}`);
        return { runId: r.runId, runDir: '', status: 'completed', stopReason: 'max_turns', turns: turnsOf[r.runId] ?? 6, costUsd: 0, resumed: false };
      },
    };
    // Children come first in the queue: they must wait all the same.
    const pending = [run('long-t4', { parent: 'long', at: 4 }), run('short-t4', { parent: 'short', at: 4 }), run('long'), run('short'), run('outside-t1', { parent: 'elsewhere', at: 1 })];
    const result = await schedule({ pending, finished: [], planned: 5, concurrency: 4, executor });
    expect(events.indexOf('start long-t4')).toBeGreaterThan(events.indexOf('end long'));
    expect(events).not.toContain('start short-t4');
    expect(result.skipped).toEqual([expect.objectContaining({ runId: 'short-t4', reason: 'parent_ended' })]);
    // A parent outside the batch (arena fork) is not waited for.
    expect(events.indexOf('start outside-t1')).toBeLessThan(events.indexOf('end long'));
  });

  it('refuse to put a batch with forks on a queue: forks read their parents’ logs from this machine', async () => {
    const dir = tempDir();
    const loaded = await planIn(dir, `scenarios: [pair.yaml]\n${FORKS}`);
    const { manifest, batchDir } = createBatch(loaded, join(dir, 'runs'));
    const executor: Executor = { execute: () => Promise.reject(new Error('nothing may run')) };
    await expect(runBatch(manifest, batchDir, { executor, inspectLocal: false })).rejects.toThrow(/forks runs, and a fork reads its parent's log from this machine/);
  });

  it('run children after their parents in a real batch, copying the parents’ turns, and resume after SIGKILL', async () => {
    const dir = tempDir();
    writeScenario(dir, { maxTurns: 8, chunkDelayMs: 4 });
    const planFile = join(dir, 'plan.yaml');
    writeFileSync(planFile, `scenarios: [pair.yaml]\nrepetitions: 2\nconcurrency: 3\n${FORKS}`);
    const runsDir = join(dir, 'runs');
    const { child, exited } = spawnCli(['batch', planFile, '--runs-dir', runsDir, '--quiet'], { cwd: dir });
    const batchDir = await until(() => (readdirSafe(runsDir)[0] ? join(runsDir, readdirSafe(runsDir)[0]!) : undefined), 10_000);
    // Kill once some children have finished and others are still to come.
    await until(() => (finishedRuns(batchDir).filter((id) => id.includes('-t')).length >= 3 ? true : undefined), 30_000);
    child.kill('SIGKILL');
    expect((await exited).signal).toBe('SIGKILL');
    expect(finishedRuns(batchDir).length).toBeLessThan(18);

    const r = await runCli(['batch', 'resume', batchDir, '--json', '--quiet'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(lastJsonLine(r.stdout)).toMatchObject({ runs: { planned: 18, completed: 18, failed: 0, skipped: 0 } });
    const manifestRuns = (JSON.parse(readFileSync(join(batchDir, 'batch.json'), 'utf8')) as { runs: { runId: string; fork?: { parentRunId: string; atTurn: number } }[] }).runs;
    let injected = 0;
    for (const entry of manifestRuns.filter((m) => m.fork)) {
      const events = readEvents(join(batchDir, entry.runId));
      const parentEvents = readEvents(join(batchDir, entry.fork!.parentRunId));
      const at = entry.fork!.atTurn;
      const texts = turnTexts(events);
      expect(texts).toHaveLength(8);
      expect(texts.slice(0, at)).toEqual(turnTexts(parentEvents).slice(0, at));
      const started = startedOf(events);
      expect(forkMetaOf(started)).toMatchObject({ parentRunId: entry.fork!.parentRunId, atTurn: at });
      // Written once the parent had finished.
      const parentFinished = parentEvents.find((e) => e.type === 'run.finished')!;
      expect(Date.parse(started.ts)).toBeGreaterThanOrEqual(Date.parse(parentFinished.ts));
      if (events.some((e) => e.type === 'intervention' && e.kind === 'inject' && e.turn === at)) injected++;
    }
    expect(injected).toBe(8);
    const summary = JSON.parse(readFileSync(join(batchDir, 'summary.json'), 'utf8')) as { results: unknown[] };
    expect(summary.results).toHaveLength(18);
  });
});

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
