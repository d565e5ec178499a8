import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPlan } from '../../src/batch/load-plan.js';
import { readRunLog } from '../../src/runlog/reader.js';
import { runState } from '../../src/arena/run-state.js';
import { runMain } from '../helpers/main-in-process.js';
import { writeBatchFixture } from './_fixtures.js';
import { alive, finishedRuns, midRun, until } from './_runs-on-disk.js';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const MAIN = join(ROOT, 'dist/cli/main.js');
const KEYLESS = join(ROOT, 'scenarios/plans/keyless.yaml');
const REAL = join(ROOT, 'scenarios/plans/claude-gpt-survey.yaml');

describe('the example plans in scenarios/plans', () => {
  it('keyless.yaml: scripted models in self-play and mixed play, repetitions that differ', async () => {
    const loaded = await loadPlan(KEYLESS);
    const pairings = [...new Set(loaded.runs.map((r) => r.cell.pairing!.join('×')))];
    expect(pairings).toEqual(['bliss×bliss', 'wedding×wedding', 'chatter×chatter', 'bliss×wedding', 'bliss×chatter', 'wedding×chatter']);
    expect(loaded.runs).toHaveLength(12);
    expect(loaded.runs.every((r) => r.scenario.agents.every((a) => a.backend === 'scripted'))).toBe(true);
    expect(loaded.warnings).toEqual([]);
  });

  it('claude-gpt-survey.yaml: loads and expands without a key (Claude and GPT seats, budget, 30 turns)', async () => {
    const loaded = await loadPlan(REAL);
    expect(loaded.runs).toHaveLength(6 * 5);
    const mixed = loaded.runs.find((r) => r.cell.pairing?.join() === 'opus,gpt' && r.cell.repetition === 5)!;
    expect(mixed.scenario.agents.map((a) => [a.backend, 'model' in a ? a.model : undefined])).toEqual([
      ['anthropic', 'claude-opus-4-1'],
      ['openai', 'gpt-4.1'],
    ]);
    expect(mixed.scenario.agents[1]).toMatchObject({ persona: 'You are talking with another AI. You have complete freedom.', sampling: { temperature: 1 } });
    expect(mixed.scenario.limits.maxTurns).toBe(30);
    expect(loaded.plan.budget).toEqual({ maxCostUsd: 40, estimatePerRunUsd: 1.5 });
  });

  it('keyless.yaml killed halfway with SIGKILL and resumed: every run completes, each turn once', async () => {
    expect(existsSync(MAIN), `${MAIN} is missing: run \`npm run build\` first`).toBe(true);
    const runsDir = mkdtempSync(join(tmpdir(), 'arena-keyless-'));
    const child = spawn(process.execPath, [MAIN, 'batch', KEYLESS, '--runs-dir', runsDir, '--quiet'], { stdio: 'ignore', env: { ...process.env, ANTHROPIC_API_KEY: '', OPENAI_API_KEY: '' } });
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_code, signal) => r(signal)));
    const batchDir = await until(() => (existsSync(runsDir) ? readdirSync(runsDir).map((n) => join(runsDir, n))[0] : undefined), 10_000);
    const before = await until(() => {
      const f = finishedRuns(batchDir);
      return f.length >= 6 && midRun(batchDir, 6) ? f : undefined;
    }, 30_000);
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(before.length).toBeLessThan(12);
    const pids = new Set((readFileSync(join(batchDir, 'batch.log'), 'utf8').match(/"pid":\d+/g) ?? []).map((m) => Number(m.slice(6))));
    await until(() => ([...pids].some(alive) ? undefined : true), 10_000);

    const r = await runMain(['batch', 'resume', batchDir, '--json', '--quiet'], ROOT, {});
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out.trim())).toMatchObject({ runs: { planned: 12, completed: 12, failed: 0, skipped: 0 } });
    const runs = readdirSync(batchDir, { withFileTypes: true }).filter((d) => d.isDirectory());
    expect(runs).toHaveLength(12);
    let resumed = 0;
    for (const d of runs) {
      const file = join(batchDir, d.name, 'events.jsonl');
      const log = await readRunLog(file);
      expect(log.problems).toEqual([]);
      expect(log.events.flatMap((e) => (e.type === 'turn.completed' ? [e.turn] : []))).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
      expect(runState(log.events, file).finished).toMatchObject({ status: 'completed', turns: 12 });
      if (log.events.some((e) => e.type === 'run.resumed')) resumed++;
    }
    expect(resumed).toBeGreaterThan(0);
  });
});

describe('repetitions that can only repeat one run', () => {
  it('warns when scripted runs share a fixed seed, or use no seed at all', async () => {
    const fixed = writeBatchFixture(`scenarios: [chat.yaml]
models:
  - { id: drifter, backend: scripted, generator: { kind: drift, from: research, to: bliss, onsetTurn: 2 } }
repetitions: 3
parameters: { seed: [7] }
`);
    const a = await runMain(['batch', 'plan.yaml', '--runs-dir', 'out', '--quiet'], fixed.dir);
    expect(a.code).toBe(0);
    expect(a.err).toContain("arena batch: warning: the 3 repetitions of each cell of 'chat' with drifter × drifter will be identical runs: scripted agents given the same seed (parameters.seed)");
    // The chat fixture's agents cycle through fixed templates: nothing in them uses the seed.
    const seedless = writeBatchFixture('scenarios: [chat.yaml]\nrepetitions: 2\n');
    const b = await runMain(['batch', 'plan.yaml', '--runs-dir', 'out', '--quiet'], seedless.dir);
    expect(b.err).toContain("arena batch: warning: the 2 repetitions of each cell of 'chat' will be identical runs: their scripted generators (script, echo, replay, cycle in order) do not use the seed");
    // Runs that differ get no warning: a drift generator with stepped seeds, or a single repetition.
    const differ = writeBatchFixture(`scenarios: [chat.yaml]
models:
  - { id: drifter, backend: scripted, generator: { kind: drift, from: research, to: bliss, onsetTurn: 2 } }
repetitions: 3
`);
    const c = await runMain(['batch', 'plan.yaml', '--runs-dir', 'out', '--quiet'], differ.dir);
    expect(c.err).not.toContain('warning');
    // And the warning is right: with a fixed seed the scripted runs are the same, turn for turn.
    const texts = await Promise.all(
      readdirSync(join(fixed.dir, 'out'))
        .flatMap((b) => readdirSync(join(fixed.dir, 'out', b), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => join(fixed.dir, 'out', b, d.name, 'events.jsonl')))
        .map(async (f) => (await readRunLog(f)).events.flatMap((e) => (e.type === 'turn.completed' ? [e.text] : [])).join('\n')),
    );
    expect(texts).toHaveLength(3);
    expect(new Set(texts).size).toBe(1);
  });
});
