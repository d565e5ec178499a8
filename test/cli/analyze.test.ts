import { readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { lockRunDir } from '../../src/runlog/writer-lock.js';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalJson, eventBodyJson } from '../../src/analysis/canonical.js';
import { analysisObserverForScenario } from '../../src/analysis/scenario-observer.js';
import { analyzeRunEvents } from '../../src/analysis/analyze-run.js';
import { BUILTIN_ATTRACTORS } from '../../src/analysis/builtin.js';
import { runScenario } from '../../src/arena/run.js';
import { ScenarioSchema, type ScenarioInput } from '../../src/arena/scenario.js';
import { readRunLog } from '../../src/runlog/reader.js';
import { lastJsonLine, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp-dir.js';

const ANALYSIS = new Set(['embedding', 'analysis.turn', 'attractor.entered', 'attractor.exited']);

function scenario(over: Partial<ScenarioInput> = {}) {
  const drift = { kind: 'drift', from: 'research', to: 'bliss', onsetTurn: 7, rampTurns: 2 };
  return ScenarioSchema.parse({
    name: 'analyze-cli',
    seed: 9,
    agents: [
      { id: 'a', backend: 'scripted', generator: drift },
      { id: 'b', backend: 'scripted', generator: drift },
    ],
    limits: { maxTurns: 16 },
    ...over,
  });
}

/** A finished run under `runsDir/<batch>/`, with live analysis when `live` is set. */
async function makeRun(runsDir: string, live: boolean, over: Partial<ScenarioInput> = {}) {
  const s = scenario(over);
  const observer = live ? await analysisObserverForScenario(s, { scenarioDir: runsDir }) : undefined;
  const result = await runScenario({ scenario: s, scenarioDir: runsDir, runsDir: join(runsDir, 'batch-1'), observers: observer ? [observer] : [] });
  return result;
}

describe.concurrent('arena analyze', () => {
  it('--json: one line with the same attractors the live run recorded, found at any depth', async (ctx) => {
    const dir = tempDir(ctx);
    const run = await makeRun(dir, true);
    const res = await runCli(['analyze', dir, '--json']);
    ctx.expect(res.stderr).toBe('');
    ctx.expect(res.code).toBe(0);
    ctx.expect(res.stdout.trimEnd().split('\n')).toHaveLength(1);
    const out = lastJsonLine(res.stdout) as { runs: { runId: string; runDir: string; attractors: unknown[] }[] };
    const { events } = await readRunLog(join(run.runDir, 'events.jsonl'));
    const entered = events.filter((e) => e.type === 'attractor.entered');
    ctx.expect(entered.length).toBeGreaterThan(0);
    ctx.expect(out).toEqual({
      runs: [{ runId: run.runId, runDir: run.runDir, attractors: entered.map((e) => ({ attractor: e.attractor, enteredTurn: e.turn, exitedTurn: null, score: e.score })) }],
    });
  });

  it('prints a readable summary without --json', async (ctx) => {
    const dir = tempDir(ctx);
    const run = await makeRun(dir, true);
    const res = await runCli(['analyze', run.runDir]);
    ctx.expect(res.code).toBe(0);
    ctx.expect(res.stdout).toMatch(new RegExp(`^${run.runId}  `));
    ctx.expect(res.stdout).toMatch(/spiritual_bliss\s+entered at turn \d+, still inside \(score \d\.\d\d\)/);
  });

  it('--write appends the analysis to a run recorded without it, once', async (ctx) => {
    const dir = tempDir(ctx);
    const run = await makeRun(dir, false);
    const file = join(run.runDir, 'events.jsonl');
    const before = await readRunLog(file);
    ctx.expect(before.events.some((e) => ANALYSIS.has(e.type))).toBe(false);

    const res = await runCli(['analyze', run.runDir, '--write', '--json']);
    ctx.expect(res.code).toBe(0);
    const after = await readRunLog(file);
    ctx.expect(after.problems).toEqual([]);
    const seqs = after.events.map((e) => e.seq);
    ctx.expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    const written = after.events.filter((e) => ANALYSIS.has(e.type));
    const expected = await analyzeRunEvents(before.events, { detectors: BUILTIN_ATTRACTORS });
    ctx.expect(written.map(eventBodyJson)).toEqual(expected.events.map(canonicalJson));
    ctx.expect(written.every((e) => e.runId === run.runId)).toBe(true);

    const bytes = readFileSync(file, 'utf8').length;
    const again = await runCli(['analyze', run.runDir, '--write']);
    ctx.expect(again.code).toBe(0);
    ctx.expect(readFileSync(file, 'utf8').length).toBe(bytes);
  });

  it('--write waits its turn on a run of a batch that is being run (the batch lock covers its runs)', async (ctx) => {
    const dir = tempDir(ctx);
    const run = await makeRun(dir, false);
    const batchDir = dirname(run.runDir);
    writeFileSync(join(batchDir, 'batch.json'), '{}');
    const file = join(run.runDir, 'events.jsonl');
    const bytes = readFileSync(file, 'utf8').length;
    const unlock = lockRunDir(batchDir, join(batchDir, 'batch.json'), 'batch');
    try {
      const refused = await runCli(['analyze', run.runDir, '--write']);
      ctx.expect(refused.code).toBe(2);
      ctx.expect(refused.stderr).toMatch(/this batch is being written by process \d+/);
      ctx.expect(readFileSync(file, 'utf8').length).toBe(bytes);
    } finally {
      unlock();
    }
    const written = await runCli(['analyze', run.runDir, '--write']);
    ctx.expect(written.code).toBe(0);
    ctx.expect(readFileSync(file, 'utf8').length).toBeGreaterThan(bytes);
  });

  it('--write leaves a log alone that holds different analysis, and says so (exit 2)', async (ctx) => {
    const dir = tempDir(ctx);
    const run = await makeRun(dir, true, { detectors: ['silence'] });
    const file = join(run.runDir, 'events.jsonl');
    const bytes = readFileSync(file, 'utf8').length;
    const res = await runCli(['analyze', run.runDir, '--write', '--detectors', 'all']);
    ctx.expect(res.code).toBe(2);
    ctx.expect(res.stderr).toMatch(/already holds different analysis/);
    ctx.expect(readFileSync(file, 'utf8').length).toBe(bytes);
  });

  it('uses the detectors the scenario named', async (ctx) => {
    const dir = tempDir(ctx);
    const run = await makeRun(dir, false, { detectors: ['repetition_loop'] });
    const out = lastJsonLine((await runCli(['analyze', run.runDir, '--json'])).stdout) as { runs: { attractors: unknown[] }[] };
    ctx.expect(out.runs[0]!.attractors).toEqual([]);
    const all = lastJsonLine((await runCli(['analyze', run.runDir, '--json', '--detectors', 'spiritual_bliss'])).stdout) as { runs: { attractors: { attractor: string }[] }[] };
    ctx.expect(all.runs[0]!.attractors.map((a) => a.attractor)).toEqual(['spiritual_bliss']);
  });

  it('bad input: a missing folder, a folder without runs, an unknown embedder (exit 2, one line)', async (ctx) => {
    const dir = tempDir(ctx);
    const missing = await runCli(['analyze', join(dir, 'nope')]);
    ctx.expect(missing.code).toBe(2);
    ctx.expect(missing.stderr).toMatch(/^arena analyze: .*nope.*no such file or folder\n$/);
    const empty = await runCli(['analyze', dir]);
    ctx.expect(empty.code).toBe(2);
    ctx.expect(empty.stderr).toMatch(/no events\.jsonl found/);
    const bad = await runCli(['analyze', dir, '--embeddings', 'magic']);
    ctx.expect(bad.code).toBe(2);
    ctx.expect(bad.stderr).toMatch(/--embeddings must be/);
  });
});
