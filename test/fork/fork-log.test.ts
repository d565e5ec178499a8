import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ScenarioSchema } from '../../src/arena/scenario.js';
import { readParentLog, writeChildLog } from '../../src/fork/fork-log.js';
import { childSeed, conditionOf, forkMetaOf, ForkMetaError } from '../../src/fork/fork-meta.js';
import { runState } from '../../src/arena/run-state.js';
import { EventStamper } from '../../src/runlog/stamp.js';
import type { EventBody } from '../../src/runlog/events.js';
import { tempDir } from '../helpers/tmp-dir.js';
import { readEvents, turnTexts } from './_fork-fixtures.js';

const scenario = ScenarioSchema.parse({
  name: 'pair',
  agents: [
    { id: 'a', backend: 'scripted', generator: { kind: 'echo' } },
    { id: 'b', backend: 'scripted', generator: { kind: 'echo' } },
  ],
  limits: { maxTurns: 8 },
});

/** A parent log written line by line: 4 turns, injections after turns 1 and 2, a late-detected onset, a judgement. */
function writeParent(dir: string): string {
  const runDir = join(dir, 'parent');
  let minute = 0;
  const stamper = new EventStamper('parent-run', 0, () => new Date(Date.UTC(2026, 0, 1, 0, minute++)));
  const bodies: EventBody[] = [
    { type: 'run.started', scenario: { ...scenario }, agents: [{ id: 'a', name: 'a', backend: 'scripted', model: 'echo' }, { id: 'b', name: 'b', backend: 'scripted', model: 'echo' }], seed: 1, limits: scenario.limits },
  ];
  for (let turn = 1; turn <= 4; turn++) {
    const agentId = turn % 2 === 1 ? 'a' : 'b';
    bodies.push({ type: 'turn.started', turn, agentId });
    bodies.push({ type: 'turn.completed', turn, agentId, text: `turn ${turn} “quoted” ✨ text`, finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 1 }, costUsd: 0.5, latencyMs: 1, attempts: 1 });
    if (turn <= 2) bodies.push({ type: 'intervention', turn, kind: 'inject', by: 'viewer', text: `inject after ${turn}`, as: 'narrator' });
    if (turn === 3) bodies.push({ type: 'attractor.entered', attractor: 'x', turn: 2, score: 0.9, evidence: { detectedAt: 3 } });
  }
  bodies.push({ type: 'run.finished', status: 'completed', stopReason: 'max_turns', turns: 4, totals: { inputTokens: 4, outputTokens: 4, costUsd: 2, failedAttempts: 0, wallTimeMs: 1 } });
  // A field a newer version writes (this one does not know it) must survive the copy.
  const lines = bodies.map((b) => stamper.next(b)).map((e) => (e.type === 'turn.completed' ? JSON.stringify({ ...e, cached: true }) : JSON.stringify(e)));
  mkdirSync(runDir, { recursive: true });
  writeFileSync(join(runDir, 'events.jsonl'), lines.join('\n') + '\n');
  return join(runDir, 'events.jsonl');
}

describe('a fork’s log', () => {
  it('copies the turns up to T, interventions made before T and onsets known by T, keeping unknown fields and timestamps', async () => {
    const dir = tempDir();
    const file = writeParent(dir);
    const parent = await readParentLog(file);
    expect(parent.turns).toBe(4);
    for (const [at, injects, onsets] of [
      [2, ['inject after 1'], 0],
      [3, ['inject after 1', 'inject after 2'], 1],
    ] as const) {
      const runDir = join(dir, `child-${at}`);
      writeChildLog({ runId: `child-${at}`, runDir, parent, parentRunDir: join(dir, 'parent'), atTurn: at, sample: 1, perturbation: null, scenario: { ...scenario, seed: 5 } });
      const events = readEvents(runDir);
      expect(turnTexts(events)).toEqual(turnTexts(parent.lines.map((l) => l.event)).slice(0, at));
      expect(events.flatMap((e) => (e.type === 'intervention' ? [e.text] : []))).toEqual(injects);
      expect(events.filter((e) => e.type === 'attractor.entered')).toHaveLength(onsets);
      expect(events.some((e) => e.type === 'run.finished' || e.type === 'judgement')).toBe(false);
      const raw = readFileSync(join(runDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      const completed = raw.filter((e) => e.type === 'turn.completed');
      expect(completed.every((e) => e.cached === true && e.runId === `child-${at}`)).toBe(true);
      expect(completed[0]!.ts).toBe('2026-01-01T00:02:00.000Z');
      const state = runState(events, file);
      expect(state).toMatchObject({ turn: at, lastSpeakerId: at % 2 === 1 ? 'a' : 'b', finished: undefined });
      expect(state.totals.costUsd).toBe(0.5 * at);
      expect(forkMetaOf(state.started)).toEqual({ parentRunId: 'parent-run', parentRunDir: '../parent', atTurn: at, sample: 1, perturbation: null, condition: 'resample', baseSeed: 1 });
      expect(readdirSync(runDir)).toEqual(['events.jsonl']);
    }
  });

  it('refuses a fork turn the parent never completed', async () => {
    const dir = tempDir();
    const parent = await readParentLog(writeParent(dir));
    expect(() => writeChildLog({ runId: 'c', runDir: join(dir, 'c'), parent, parentRunDir: join(dir, 'parent'), atTurn: 5, sample: 1, perturbation: null, scenario })).toThrow(
      /run parent-run has 4 completed turn\(s\); cannot fork at turn 5/,
    );
    expect(existsSync(join(dir, 'c'))).toBe(false);
  });
});

describe('the fork contract', () => {
  it('derives distinct, reproducible child seeds', () => {
    const seeds = [1, 2, 3].map((k) => childSeed(7, 8, k));
    expect(new Set(seeds).size).toBe(3);
    expect(childSeed(7, 8, 1)).toBe(seeds[0]);
    expect(childSeed(7, 9, 1)).not.toBe(seeds[0]);
    expect(seeds.every((s) => Number.isInteger(s) && s >= 0 && s <= 0x7fffffff)).toBe(true);
  });

  it('labels conditions stably and reads meta.fork, refusing a malformed one', () => {
    expect(conditionOf(null)).toBe('resample');
    expect(conditionOf({ agents: { b: 'openai:m', a: 'x:y' }, inject: { text: 'Knock.', as: 'narrator' } })).toBe('inject:narrator:Knock. + agents:a=x:y,b=openai:m');
    expect(forkMetaOf({ runId: 'r', meta: { batchId: 'b' } })).toBeUndefined();
    expect(() => forkMetaOf({ runId: 'r', meta: { fork: { parentRunId: 'p', atTurn: 0 } } })).toThrow(ForkMetaError);
    expect(() => forkMetaOf({ runId: 'r', meta: { fork: { parentRunId: 'p', atTurn: 0 } } })).toThrow(/run r: meta\.fork\.parentRunDir/);
  });
});
