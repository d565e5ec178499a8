import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startRun, runScenario } from '../../src/arena/run.js';
import type { RunControl, RunObserver } from '../../src/arena/observer.js';
import type { ArenaEvent } from '../../src/runlog/events.js';
import { readRunLog } from '../../src/runlog/reader.js';
import { tempDir } from '../helpers/tmp-dir.js';
import { gatedSleep, handAgent, hang, say, scriptScenario } from './_run-fixtures.js';

async function logOf(runDir: string) {
  const log = await readRunLog(join(runDir, 'events.jsonl'));
  expect(log.problems).toEqual([]);
  expect(log.truncatedTail).toBe(false);
  return log.events;
}

function expectSeqFromOne(events: readonly ArenaEvent[]) {
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
}

describe('startRun', () => {
  it('writes run.started, a started/completed pair per turn and run.finished, seq from 1', async () => {
    const runsDir = tempDir();
    const result = await runScenario({ scenario: scriptScenario(), scenarioDir: runsDir, runsDir });
    expect(result).toMatchObject({ status: 'completed', stopReason: 'max_turns', turns: 4 });
    expect(result.runDir).toBe(join(runsDir, result.runId));
    const events = await logOf(result.runDir);
    expect(events.map((e) => e.type)).toEqual([
      'run.started',
      ...Array.from({ length: 4 }, () => ['turn.started', 'turn.completed']).flat(),
      'run.finished',
    ]);
    expectSeqFromOne(events);
    expect(new Set(events.map((e) => e.runId))).toEqual(new Set([result.runId]));
    const started = events[0]!;
    expect(started).toMatchObject({
      type: 'run.started',
      seed: 5,
      agents: [
        { id: 'a', name: 'Ada', backend: 'scripted', model: 'script' },
        { id: 'b', name: 'Bea', backend: 'scripted', model: 'script' },
      ],
      limits: { maxTurns: 4 },
    });
    const turns = events.filter((e) => e.type === 'turn.completed');
    expect(turns.map((e) => [e.turn, e.agentId, e.text])).toEqual([
      [1, 'a', 'alpha one two'],
      [2, 'b', 'beta one two'],
      [3, 'a', 'alpha three four'],
      [4, 'b', 'beta three four'],
    ]);
    expect(events.at(-1)).toMatchObject({ type: 'run.finished', status: 'completed', stopReason: 'max_turns', turns: 4, totals: { outputTokens: 12, failedAttempts: 0 } });
  });

  it('a run whose log cannot be written stops at once, aborting its turn, and done says why', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a-file'), 'not a folder');
    const gate = gatedSleep();
    const handle = await startRun({
      scenario: scriptScenario({ limits: { maxTurns: 50 } }, { chunkDelayMs: 5, chunkWords: 1 }),
      scenarioDir: dir,
      runsDir: join(dir, 'a-file'),
      sleep: gate.sleep,
    });
    const seen: ArenaEvent[] = [];
    handle.subscribe((e) => seen.push(e), { deltas: false });
    // The first turn is under way (waiting in a sleep) when the log fails to open: nothing releases it.
    await expect(handle.done).rejects.toThrow(/events\.jsonl: cannot write the run log \(ENOTDIR\)/);
    expect(seen.filter((e) => e.type === 'turn.completed')).toEqual([]);
    expect(seen.find((e) => e.type === 'turn.failed')).toMatchObject({ turn: 1, error: { name: 'AbortedError' } });
    expect(seen.at(-1)).toMatchObject({ type: 'run.finished', status: 'stopped', stopReason: 'log_unwritable' });
  });

  it('streams deltas to live subscribers that join to each turn, and keeps them out of the log', async () => {
    const runsDir = tempDir();
    const gate = gatedSleep();
    // One word per chunk with a (gated) delay between chunks: turns arrive in pieces.
    const handle = await startRun({ scenario: scriptScenario({}, { chunkDelayMs: 5, chunkWords: 1 }), scenarioDir: runsDir, runsDir, sleep: gate.sleep });
    const live: ArenaEvent[] = [];
    handle.subscribe((e) => live.push(e));
    // Nothing beyond the first chunk can have streamed before we subscribed: the stream is waiting in sleep.
    const releaser = setInterval(() => gate.release(), 1);
    const result = await handle.done;
    clearInterval(releaser);
    expect(result.status).toBe('completed');
    expect(gate.calls).toBeGreaterThan(0);

    const completed = live.filter((e) => e.type === 'turn.completed');
    expect(completed).toHaveLength(4);
    for (const turn of completed.slice(1)) {
      const deltas = live.filter((e) => e.type === 'turn.delta' && e.turn === turn.turn);
      expect(deltas.length).toBe(3);
      expect(deltas.map((d) => (d.type === 'turn.delta' ? d.text : '')).join('')).toBe(turn.text);
      // Deltas carry the seq of the last persisted event, not a seq of their own.
      const startedSeq = live.find((e) => e.type === 'turn.started' && e.turn === turn.turn)!.seq;
      for (const d of deltas) expect(d.seq).toBe(startedSeq);
    }
    const logged = await logOf(result.runDir);
    expect(logged.filter((e) => e.type === 'turn.delta')).toEqual([]);
    expectSeqFromOne(logged);
  });

  it('writes deltas to the log when persistDeltas is set, each with its own seq', async () => {
    const runsDir = tempDir();
    const result = await runScenario({ scenario: scriptScenario({}, { chunkWords: 1 }), scenarioDir: runsDir, runsDir, persistDeltas: true });
    const events = await logOf(result.runDir);
    expectSeqFromOne(events);
    for (const turn of events.filter((e) => e.type === 'turn.completed')) {
      const deltas = events.filter((e) => e.type === 'turn.delta' && e.turn === turn.turn);
      expect(deltas.map((d) => (d.type === 'turn.delta' ? d.text : '')).join('')).toBe(turn.text);
      expect(deltas.map((d) => (d.type === 'turn.delta' ? d.i : -1))).toEqual([0, 1, 2]);
    }
  });

  it('stop mid-turn records the partial turn as cut short by the stop (not a failed attempt) and finishes stopped', async () => {
    const runsDir = tempDir();
    const gate = gatedSleep();
    const handle = await startRun({ scenario: scriptScenario({}, { chunkDelayMs: 5, chunkWords: 1 }), scenarioDir: runsDir, runsDir, sleep: gate.sleep });
    // Let turn 1 finish, then stop turn 2 after its first word.
    await gate.blocked();
    gate.release();
    await gate.blocked();
    gate.release();
    await gate.blocked();
    expect(handle.status()).toBe('running');
    handle.send({ type: 'stop', by: 'tester' });
    const result = await handle.done;
    expect(result).toMatchObject({ status: 'stopped', stopReason: 'user', turns: 1 });
    expect(handle.status()).toBe('stopped');
    const events = await logOf(result.runDir);
    expectSeqFromOne(events);
    expect(events.map((e) => e.type)).toEqual(['run.started', 'turn.started', 'turn.completed', 'turn.started', 'intervention', 'turn.failed', 'run.finished']);
    expect(events[5]).toMatchObject({ type: 'turn.failed', turn: 2, agentId: 'b', attempt: 1, willRetry: false, aborted: true, error: { name: 'AbortedError' }, partialText: 'beta' });
    // A stop by the user is a stop: it does not count as a failed attempt.
    expect(events[6]).toMatchObject({ status: 'stopped', stopReason: 'user', turns: 1, totals: { failedAttempts: 0 } });
  });

  it('records failed attempts of an erroring agent and fails the run on a final error', async () => {
    const runsDir = tempDir();
    const boom = Object.assign(new Error('service unavailable'), { status: 503 });
    const a = handAgent('a', async function* (_o, call) {
      if (call === 1) {
        yield { type: 'error', error: boom, attempt: 1, willRetry: true };
        yield* say('recovered');
        return;
      }
      yield { type: 'text-delta', text: 'half a ' };
      yield { type: 'error', error: boom, attempt: 1, willRetry: true };
      yield { type: 'error', error: boom, attempt: 2, willRetry: false };
    });
    const b = handAgent('b', () => say('fine'));
    const result = await runScenario({ scenario: scriptScenario(), scenarioDir: runsDir, runsDir, agents: [a, b] });
    expect(result).toMatchObject({ status: 'failed', stopReason: 'error', turns: 2 });
    const events = await logOf(result.runDir);
    expectSeqFromOne(events);
    const failed = events.filter((e) => e.type === 'turn.failed');
    expect(failed.map((e) => [e.turn, e.attempt, e.willRetry, e.error.status])).toEqual([
      [1, 1, true, 503],
      [3, 1, true, 503],
      [3, 2, false, 503],
    ]);
    expect(failed[1]).toMatchObject({ partialText: 'half a ' });
    const completed = events.filter((e) => e.type === 'turn.completed');
    // The retried turn is recorded once, counting both attempts, without the failed attempt's text.
    expect(completed.map((e) => [e.turn, e.text, e.attempts])).toEqual([
      [1, 'recovered', 2],
      [2, 'fine', 1],
    ]);
    const finished = events.at(-1)!;
    expect(finished).toMatchObject({ type: 'run.finished', status: 'failed', stopReason: 'error', turns: 2, totals: { failedAttempts: 3 } });
    expect(finished.type === 'run.finished' && finished.error?.message).toContain('service unavailable');
  });

  it('a stream that ends without finishing fails the turn instead of recording it', async () => {
    const runsDir = tempDir();
    const a = handAgent('a', async function* () {
      yield { type: 'text-delta', text: 'and then' };
    });
    const result = await runScenario({ scenario: scriptScenario(), scenarioDir: runsDir, runsDir, agents: [a, handAgent('b', () => say('x'))] });
    expect(result.status).toBe('failed');
    const events = await logOf(result.runDir);
    expect(events.filter((e) => e.type === 'turn.completed')).toEqual([]);
    expect(events.find((e) => e.type === 'turn.failed')).toMatchObject({ turn: 1, partialText: 'and then', willRetry: false });
  });

  it('stops at the wall time limit, aborting the turn in flight', async () => {
    const runsDir = tempDir();
    const a = handAgent('a', (o) => hang(o.signal));
    const started = Date.now();
    const result = await runScenario({
      scenario: scriptScenario({ limits: { maxTurns: 10, wallTimeSec: 0.2 } }),
      scenarioDir: runsDir,
      runsDir,
      agents: [a, handAgent('b', () => say('x'))],
    });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(result).toMatchObject({ status: 'stopped', stopReason: 'wall_time', turns: 0 });
    const events = await logOf(result.runDir);
    expect(events.find((e) => e.type === 'turn.failed')).toMatchObject({ error: { name: 'AbortedError' }, partialText: 'thinking about' });
    expect(events.find((e) => e.type === 'intervention')).toMatchObject({ kind: 'stop', by: 'limits' });
  });

  it('inject through the handle reaches the next agent and the log', async () => {
    const runsDir = tempDir();
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let inFlight!: () => void;
    const firstTurnStarted = new Promise<void>((r) => (inFlight = r));
    const a = handAgent('a', async function* () {
      inFlight();
      await released;
      yield* say('first words');
    });
    const seen: string[][] = [];
    const b = handAgent('b', (o) => {
      seen.push(o.transcript.map((e) => `${e.speaker}:${e.kind}:${e.text}`));
      return say('ok');
    });
    const handle = await startRun({ scenario: scriptScenario({ limits: { maxTurns: 2 } }), scenarioDir: runsDir, runsDir, agents: [a, b] });
    await firstTurnStarted;
    handle.send({ type: 'inject', by: 'tester', text: 'The lights flicker.' });
    handle.send({ type: 'inject', by: 'tester', text: 'Hold on.', as: 'b' });
    expect(() => handle.send({ type: 'inject', by: 'tester', text: 'x', as: 'zed' })).toThrow(/zed/);
    release();
    const result = await handle.done;
    expect(seen).toEqual([['Narrator:inject:The lights flicker.', 'Bea:inject:Hold on.', 'Ada:turn:first words']]);
    const events = await logOf(result.runDir);
    expect(events.filter((e) => e.type === 'intervention').map((e) => (e.type === 'intervention' ? [e.kind, e.by, e.as, e.text, e.turn] : []))).toEqual([
      ['inject', 'tester', 'narrator', 'The lights flicker.', 0],
      ['inject', 'tester', 'b', 'Hold on.', 0],
    ]);
  });

  it('runs observer flush before run.finished, and the events observers publish land in the log', async () => {
    const runsDir = tempDir();
    const seenByObserver: string[] = [];
    let history: readonly ArenaEvent[] | undefined;
    let control: RunControl | undefined;
    const queued: number[] = [];
    const observer: RunObserver = {
      start(h, c) {
        history = h;
        control = c;
      },
      onEvent(e, c) {
        seenByObserver.push(e.type);
        if (e.type !== 'turn.completed') return;
        queued.push(e.turn);
        // Quick work is published at once, from inside onEvent.
        if (e.turn === 1) c.publish({ type: 'attractor.entered', attractor: 'test', turn: 1, score: 1, evidence: {} });
      },
      async flush() {
        seenByObserver.push('flush');
        // Slow work finishes in flush, after the last turn.
        await new Promise((r) => setTimeout(r, 20));
        for (const turn of queued.splice(0)) control!.publish({ type: 'analysis.turn', turn, features: {}, scores: { test: turn / 10 } });
      },
    };
    const result = await runScenario({ scenario: scriptScenario(), scenarioDir: runsDir, runsDir, observers: [observer] });
    expect(history).toEqual([]);
    const events = await logOf(result.runDir);
    expectSeqFromOne(events);
    const types = events.map((e) => e.type);
    expect(types.filter((t) => t === 'analysis.turn')).toHaveLength(4);
    expect(types.at(-1)).toBe('run.finished');
    expect(types.lastIndexOf('analysis.turn')).toBeLessThan(types.indexOf('run.finished'));
    expect(types.indexOf('attractor.entered')).toBe(types.indexOf('turn.completed') + 1);
    // The observer sees its own events too, and run.finished only after its flush.
    expect(seenByObserver).toContain('analysis.turn');
    expect(seenByObserver.indexOf('flush')).toBeLessThan(seenByObserver.indexOf('run.finished'));
  });

  it('pause holds the run between turns until resumed', async () => {
    const runsDir = tempDir();
    const gate = gatedSleep();
    const handle = await startRun({ scenario: scriptScenario({ limits: { maxTurns: 3 } }, { chunkDelayMs: 5, chunkWords: 1 }), scenarioDir: runsDir, runsDir, sleep: gate.sleep });
    const seen: ArenaEvent[] = [];
    handle.subscribe((e) => seen.push(e));
    await gate.blocked();
    handle.send({ type: 'pause', by: 'tester' });
    const paused = new Promise<void>((r) => handle.subscribe((e) => e.type === 'turn.completed' && r()));
    const releaser = setInterval(() => gate.release(), 1);
    await paused;
    await new Promise((r) => setTimeout(r, 30));
    expect(handle.status()).toBe('paused');
    expect(seen.filter((e) => e.type === 'turn.started')).toHaveLength(0);
    handle.send({ type: 'resume', by: 'tester' });
    const result = await handle.done;
    clearInterval(releaser);
    expect(result).toMatchObject({ status: 'completed', turns: 3 });
  });
});
