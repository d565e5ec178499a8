import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUILTIN_ATTRACTORS } from '../../src/analysis/builtin.js';
import { createAnalysisObserver } from '../../src/analysis/observer.js';
import type { RunHandle } from '../../src/arena/run-handle.js';
import { startRun } from '../../src/arena/run.js';
import { runState } from '../../src/arena/run-state.js';
import type { ArenaEvent } from '../../src/runlog/events.js';
import { readRunLog } from '../../src/runlog/reader.js';
import { startViewer, type Viewer } from '../../src/viewer/server.js';
import { scriptScenario } from '../arena/_run-fixtures.js';
import { TestClient } from './_ws-client.js';

let runsDir: string;
const viewers: Viewer[] = [];
const clients: TestClient[] = [];

beforeEach(() => {
  runsDir = mkdtempSync(join(tmpdir(), 'viewer-live-log-'));
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  for (const v of viewers.splice(0)) await v.close();
  rmSync(runsDir, { recursive: true, force: true });
});

async function viewer(): Promise<Viewer> {
  const v = await startViewer({ runsDir, port: 0, validateOutgoing: true, pollMs: 50, scanIntervalMs: 100, pushIntervalMs: 20 });
  viewers.push(v);
  return v;
}

async function subscribed(v: Viewer, runId: string): Promise<TestClient> {
  const c = await TestClient.open(v.baseUrl);
  clients.push(c);
  c.send({ type: 'subscribe', runs: [{ runId }] });
  return c;
}

const persisted = (events: ArenaEvent[]) => events.filter((e) => e.type !== 'turn.delta' && e.type !== 'turn.waiting');

/** Resolves on the first event of the run that matches, from now on. */
function next(handle: RunHandle, match: (e: ArenaEvent) => boolean): Promise<ArenaEvent> {
  return new Promise((resolve) => {
    const stop = handle.subscribe((e) => {
      if (!match(e)) return;
      stop();
      resolve(e);
    }, { deltas: false });
  });
}

/** What a viewer started afresh (nothing attached) shows of the run: read from its log. */
async function readThroughFreshViewer(runId: string): Promise<ArenaEvent[]> {
  const c = await subscribed(await viewer(), runId);
  await c.waitFor('replayed', (m) => m.runId === runId);
  return persisted(c.events(runId));
}

/** The log's events a viewer shows (cached embedding vectors are not among them). */
async function logEvents(handle: RunHandle): Promise<ArenaEvent[]> {
  const log = await readRunLog(join(handle.runDir, 'events.jsonl'));
  expect(log.problems).toEqual([]);
  return log.events.filter((e) => e.type !== 'embedding');
}

describe('a run of this process, shown from memory, is the run its log holds', () => {
  it('gives a watcher from the start and one joining mid-run the same events, in the same order, as its log read afterwards', async () => {
    const live = await viewer();
    const scenario = scriptScenario({ limits: { maxTurns: 10 } }, { chunkDelayMs: 2, chunkWords: 1 });
    const handle = await startRun({ scenario, scenarioDir: runsDir, runsDir, keepEvents: true, observers: [createAnalysisObserver({ detectors: BUILTIN_ATTRACTORS })] });
    live.attach(handle);
    const early = await subscribed(live, handle.runId);

    await next(handle, (e) => e.type === 'turn.completed' && e.turn === 5);
    const late = await subscribed(live, handle.runId);
    await late.waitFor('replayed', (m) => m.runId === handle.runId);
    // Joined mid-run: everything from seq 1 on, without a gap.
    const lateSoFar = persisted(late.events(handle.runId)).map((e) => e.seq);
    expect(lateSoFar[0]).toBe(1);
    expect(lateSoFar).toEqual(lateSoFar.map((_, i) => i + 1));
    expect(lateSoFar.length).toBeGreaterThanOrEqual(10);

    const result = await handle.done;
    expect(result.status).toBe('completed');
    await early.waitForEvent(handle.runId, (e) => e.type === 'run.finished');
    await late.waitForEvent(handle.runId, (e) => e.type === 'run.finished');

    const fromLog = await logEvents(handle);
    expect(fromLog.map((e) => e.seq)).toEqual(fromLog.map((_, i) => i + 1));
    expect(fromLog.some((e) => e.type === 'analysis.turn')).toBe(true);
    // The whole events, payload and all: what went out live is what the log holds.
    expect(persisted(early.events(handle.runId))).toEqual(fromLog);
    expect(persisted(late.events(handle.runId))).toEqual(fromLog);
    expect(await readThroughFreshViewer(handle.runId)).toEqual(fromLog);
    for (const c of [early, late]) expect(c.invalid).toEqual([]);
  });

  it('shows a resumed run from seq 1: the events its log had before this process, then its own', async () => {
    const scenario = scriptScenario({ limits: { maxTurns: 6 } }, { chunkDelayMs: 1, chunkWords: 1 });
    const first = await startRun({ scenario, scenarioDir: runsDir, runsDir });
    await next(first, (e) => e.type === 'turn.completed' && e.turn === 3);
    first.send({ type: 'stop', by: 'test', reason: 'interrupted' });
    expect((await first.done).status).toBe('interrupted');

    const file = join(first.runDir, 'events.jsonl');
    const cut = await readRunLog(file);
    const resumed = await startRun({
      scenario,
      scenarioDir: runsDir,
      runsDir,
      runDir: first.runDir,
      keepEvents: true,
      resume: { state: runState(cut.events, file), validBytes: cut.validBytes, truncatedTail: cut.truncatedTail, history: cut.events, totalBytes: cut.totalBytes },
    });
    const live = await viewer();
    live.attach(resumed);
    const c = await subscribed(live, resumed.runId);
    expect((await resumed.done).status).toBe('completed');
    await c.waitForEvent(resumed.runId, (e) => e.type === 'run.finished' && e.status === 'completed');

    const fromLog = await logEvents(resumed);
    expect(fromLog.filter((e) => e.type === 'run.resumed')).toHaveLength(1);
    expect(fromLog.map((e) => e.seq)).toEqual(fromLog.map((_, i) => i + 1));
    expect(persisted(c.events(resumed.runId))).toEqual(fromLog);
    expect(await readThroughFreshViewer(resumed.runId)).toEqual(fromLog);
  });
});
