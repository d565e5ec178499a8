import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { openViewerForRun } from '../../src/viewer/index.js';
import { startViewer, type Viewer } from '../../src/viewer/server.js';
import { FakeRun } from './_fake-run.js';
import { startRun } from '../../src/arena/run.js';
import { gatedSleep, scriptScenario } from '../arena/_run-fixtures.js';
import { TestClient, wsUrl } from './_ws-client.js';

let runsDir: string;
let viewer: Viewer;
const clients: TestClient[] = [];

async function client(): Promise<TestClient> {
  const c = await TestClient.open(viewer.baseUrl);
  clients.push(c);
  await c.waitFor('hello');
  return c;
}

beforeEach(async () => {
  runsDir = mkdtempSync(join(tmpdir(), 'viewer-'));
  viewer = await startViewer({ runsDir, port: 0, validateOutgoing: true, pollMs: 50, scanIntervalMs: 100, pushIntervalMs: 20 });
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  await viewer.close();
  rmSync(runsDir, { recursive: true, force: true });
});

/** A finished run written by "another process": a log on disk, nothing attached. */
function writeLog(dir: string, runId: string, turns: number, finished = true): string {
  mkdirSync(dir, { recursive: true });
  const lines = [
    { v: 1, seq: 1, ts: '2025-01-01T00:00:00.000Z', runId, type: 'run.started', scenario: { name: 'disk' }, agents: [{ id: 'a', name: 'A', backend: 'scripted', model: 'm' }], seed: 1, limits: { maxTurns: 9 } },
  ];
  for (let t = 1; t <= turns; t++) {
    lines.push({ v: 1, seq: lines.length + 1, ts: '2025-01-01T00:00:01.000Z', runId, type: 'turn.completed', turn: t, agentId: 'a', text: `disk turn ${t}`, finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 1 }, costUsd: 0, latencyMs: 1, attempts: 1 } as never);
  }
  if (finished) {
    lines.push({ v: 1, seq: lines.length + 1, ts: '2025-01-01T00:00:02.000Z', runId, type: 'run.finished', status: 'completed', stopReason: 'max_turns', turns, totals: { inputTokens: 0, outputTokens: 0, costUsd: 0, failedAttempts: 0, wallTimeMs: 1 } } as never);
  }
  const path = join(dir, 'events.jsonl');
  appendFileSync(path, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  return path;
}

describe('viewer protocol', () => {
  it('lists live runs and finished runs found at any depth', async () => {
    writeLog(join(runsDir, 'solo'), 'solo', 2);
    writeLog(join(runsDir, 'batch-1', 'r1'), 'r1', 3);
    const live = new FakeRun(runsDir, 'live-1');
    viewer.attach(live);
    live.start();
    const c = await client();
    c.send({ type: 'list', id: 'L' });
    const { runs } = await c.waitFor('runs', (m) => m.id === 'L');
    const byId = new Map(runs.map((r) => [r.runId, r]));
    expect(byId.get('live-1')).toMatchObject({ live: true, status: 'running', scenario: 'fake-scenario' });
    expect(byId.get('solo')).toMatchObject({ live: false, status: 'completed', turns: 2, batch: null });
    expect(byId.get('r1')).toMatchObject({ live: false, status: 'completed', turns: 3, batch: 'batch-1', dir: 'batch-1/r1' });
  });

  it('lists a run that started and finished before the viewer read its log, with all its turns', async () => {
    const run = new FakeRun(runsDir, 'quick');
    viewer.attach(run);
    run.start();
    for (let t = 1; t <= 3; t++) await run.turn(t % 2 ? 'a' : 'b', `turn ${t}`);
    run.enter('repetition_loop', 3, 0.9, []);
    run.finish();
    const c = await client();
    const msg = await c.waitFor('run', (m) => m.run.runId === 'quick' && m.run.status === 'completed');
    expect(msg.run).toMatchObject({ turns: 3, attractors: ['repetition_loop'], live: false });
    c.send({ type: 'subscribe', runs: [{ runId: 'quick' }] });
    await c.waitFor('replayed');
    expect(c.events('quick').map((e) => e.seq)).toEqual(run.published.map((e) => e.seq));
  });

  it('openViewerForRun starts a viewer on the run and lists the runs beside it', async () => {
    writeLog(join(runsDir, 'earlier'), 'earlier', 1);
    const run = new FakeRun(runsDir, 'now');
    run.start();
    const own = await openViewerForRun(run, { port: 0, validateOutgoing: true });
    try {
      expect(own.url).toBe(`${own.baseUrl}?token=${own.token}`);
      const c = await TestClient.open(own.baseUrl);
      clients.push(c);
      c.send({ type: 'list' });
      const { runs } = await c.waitFor('runs');
      expect(runs.map((r) => [r.runId, r.live]).sort()).toEqual([['earlier', false], ['now', true]]);
    } finally {
      await own.close();
    }
  });

  it('replays history in seq order, then the in-flight deltas, then live events', async () => {
    const run = new FakeRun(runsDir, 'r');
    viewer.attach(run);
    run.start();
    await run.turn('a', 'one two three');
    const turn = await run.begin('b', ['half ', 'way ']);
    const c = await client();
    c.send({ type: 'subscribe', runs: [{ runId: 'r' }] });
    await c.waitFor('replayed', (m) => m.runId === 'r');
    run.complete(turn, 'b', 'half way there');
    await c.waitForEvent('r', (e) => e.type === 'turn.completed' && e.turn === 2);
    const events = c.events('r');
    const persisted = events.filter((e) => e.type !== 'turn.delta').map((e) => e.seq);
    expect(persisted).toEqual(run.published.map((e) => e.seq));
    const deltas = events.filter((e) => e.type === 'turn.delta');
    expect(deltas.map((d) => (d.type === 'turn.delta' ? d.text : ''))).toEqual(['half ', 'way ']);
  });

  // keepEvents is how `arena run --view` starts a run: the viewer takes everything from the handle. Without it
  // the viewer follows the run's log for what the handle cannot replay.
  it.each([
    { keepEvents: true, persistDeltas: false },
    { keepEvents: true, persistDeltas: true },
    { keepEvents: false, persistDeltas: false },
    { keepEvents: false, persistDeltas: true },
  ])('shows a run attached as it starts at once, before its log file exists and while its first turn runs (%o)', async ({ keepEvents, persistDeltas }) => {
    const gate = gatedSleep();
    const handle = await startRun({ scenario: scriptScenario({}, { chunkDelayMs: 5, chunkWords: 1 }), scenarioDir: runsDir, runsDir, sleep: gate.sleep, persistDeltas, keepEvents });
    // A new run's log is opened just after startRun returns: attaching now finds no file yet.
    viewer.attach(handle);
    const c = await client();
    c.send({ type: 'subscribe', id: 's', runs: [{ runId: handle.runId }] });
    await c.waitForEvent(handle.runId, (e) => e.type === 'turn.started' && e.turn === 1, 2_000);
    // The first turn is still held in its first sleep: what arrived came from the run (or its log), not from a turn's end.
    expect(c.events(handle.runId).filter((e) => e.type !== 'turn.delta').map((e) => e.type)).toEqual(['run.started', 'turn.started']);
    handle.send({ type: 'stop', by: 'test' });
    await handle.done;
  });

  it('resumes after a reconnect from the last seq seen, missing nothing and repeating nothing', async () => {
    const run = new FakeRun(runsDir, 'r');
    viewer.attach(run);
    run.start();
    await run.turn('a', 'first');
    const c1 = await client();
    c1.send({ type: 'subscribe', runs: [{ runId: 'r' }] });
    await c1.waitFor('replayed');
    const seen = Math.max(...c1.events('r').map((e) => e.seq));
    await c1.close();
    for (let i = 0; i < 5; i++) await run.turn(i % 2 ? 'a' : 'b', `while away ${i}`);
    const c2 = await client();
    c2.send({ type: 'subscribe', runs: [{ runId: 'r', afterSeq: seen }] });
    await c2.waitFor('replayed');
    await run.turn('a', 'after return');
    await c2.waitForEvent('r', (e) => e.type === 'turn.completed' && e.text === 'after return');
    const got = c2.events('r').filter((e) => e.type !== 'turn.delta').map((e) => e.seq);
    expect(got).toEqual(run.published.filter((e) => e.seq > seen).map((e) => e.seq));
  });

  it('subscribes to many runs at once, including a finished run read from disk', async () => {
    writeLog(join(runsDir, 'old'), 'old', 4);
    const run = new FakeRun(runsDir, 'new');
    viewer.attach(run);
    run.start();
    const c = await client();
    c.send({ type: 'subscribe', id: 's', runs: [{ runId: 'old' }, { runId: 'new' }] });
    await c.waitFor('replayed', (m) => m.runId === 'old');
    await c.waitFor('replayed', (m) => m.runId === 'new');
    expect(c.events('old').map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(c.events('new').map((e) => e.type)).toEqual(['run.started']);
  });

  it('follows a log another process is writing', async () => {
    const path = writeLog(join(runsDir, 'other'), 'other', 1, false);
    const c = await client();
    c.send({ type: 'subscribe', runs: [{ runId: 'other' }] });
    await c.waitFor('replayed');
    const line = { v: 1, seq: 3, ts: new Date().toISOString(), runId: 'other', type: 'turn.completed', turn: 2, agentId: 'a', text: 'appended later', finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 1 }, costUsd: 0, latencyMs: 1, attempts: 1 };
    // Written in two pieces: a half-written line must wait for its newline.
    const text = `${JSON.stringify(line)}\n`;
    appendFileSync(path, text.slice(0, 20));
    appendFileSync(path, text.slice(20));
    const event = await c.waitForEvent('other', (e) => e.seq === 3);
    expect(event).toMatchObject({ type: 'turn.completed', text: 'appended later' });
    expect(c.events('other').map((e) => e.seq)).toEqual([1, 2, 3]);
  });

  it('pushes run-list changes and picks up new runs on disk', async () => {
    const c = await client();
    const run = new FakeRun(runsDir, 'pushed');
    viewer.attach(run);
    run.start();
    run.enter('spiritual-bliss', 1, 0.9, ['eternal']);
    const msg = await c.waitFor('run', (m) => m.run.runId === 'pushed' && m.run.attractors.includes('spiritual-bliss'));
    expect(msg.run.live).toBe(true);
    writeLog(join(runsDir, 'b2', 'late'), 'late', 1);
    const late = await c.waitFor('run', (m) => m.run.runId === 'late');
    expect(late.run).toMatchObject({ batch: 'b2', status: 'completed' });
  });

  it('answers garbage with an error and keeps serving that client and others', async () => {
    const run = new FakeRun(runsDir, 'r');
    viewer.attach(run);
    run.start();
    const good = await client();
    good.send({ type: 'subscribe', runs: [{ runId: 'r' }] });
    await good.waitFor('replayed');
    const bad = await client();
    bad.send('this is not json {');
    bad.send({ type: 'subscribe', runs: 'everything', id: 'x1' });
    bad.send({ type: 'launch-missiles' });
    bad.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    bad.send({ type: 'subscribe', runs: [{ runId: 'nope' }], id: 'x2' });
    await bad.waitFor('error', (m) => m.id === 'x2');
    const errors = bad.messages.filter((m) => m.type === 'error');
    expect(errors.map((e) => (e.type === 'error' ? e.code : ''))).toEqual(['bad_message', 'bad_message', 'bad_message', 'bad_message', 'unknown_run']);
    expect(errors[1]).toMatchObject({ id: 'x1', message: expect.stringContaining('runs') });
    bad.send({ type: 'ping', id: 'still-there' });
    await bad.waitFor('pong', (m) => m.id === 'still-there');
    await run.turn('a', 'others still served');
    await good.waitForEvent('r', (e) => e.type === 'turn.completed');
  });

  it('refuses control without the token, with a wrong one, and for runs it cannot steer', async () => {
    const run = new FakeRun(runsDir, 'r');
    viewer.attach(run);
    run.start();
    writeLog(join(runsDir, 'disk'), 'disk', 1, false);
    const c = await client();
    c.send({ type: 'control', id: 'none', runId: 'r', command: { type: 'pause' } });
    c.send({ type: 'control', id: 'wrong', runId: 'r', token: `${viewer.token}x`, command: { type: 'stop' } });
    c.send({ type: 'control', id: 'short', runId: 'r', token: 'a', command: { type: 'inject', text: 'hi' } });
    c.send({ type: 'control', id: 'disk', runId: 'disk', token: viewer.token, command: { type: 'pause' } });
    c.send({ type: 'control', id: 'ghost', runId: 'ghost', token: viewer.token, command: { type: 'pause' } });
    await c.waitFor('error', (m) => m.id === 'ghost');
    const codes = Object.fromEntries(c.messages.flatMap((m) => (m.type === 'error' ? [[m.id, m.code]] : [])));
    expect(codes).toEqual({ none: 'unauthorized', wrong: 'unauthorized', short: 'unauthorized', disk: 'not_controllable', ghost: 'unknown_run' });
    expect(run.commands).toEqual([]);
    expect(run.status()).toBe('running');
  });

  it('passes pause, resume, inject and stop with the token on to the run', async () => {
    const run = new FakeRun(runsDir, 'r');
    viewer.attach(run);
    run.start();
    const c = await client();
    const token = viewer.token;
    c.send({ type: 'control', id: '1', runId: 'r', token, command: { type: 'pause' } });
    await c.waitFor('ack', (m) => m.id === '1');
    expect(run.status()).toBe('paused');
    c.send({ type: 'control', id: '2', runId: 'r', token, command: { type: 'inject', text: 'a note', as: 'b' } });
    c.send({ type: 'control', id: '3', runId: 'r', token, command: { type: 'resume' } });
    c.send({ type: 'control', id: '4', runId: 'r', token, command: { type: 'stop', reason: 'enough' } });
    await c.waitFor('ack', (m) => m.id === '4');
    expect(run.commands).toEqual([
      { type: 'pause', by: 'viewer' },
      { type: 'inject', by: 'viewer', text: 'a note', as: 'b' },
      { type: 'resume', by: 'viewer' },
      { type: 'stop', by: 'viewer', reason: 'enough' },
    ]);
    const log = readFileSync(run.logPath, 'utf8');
    expect(log).toContain('"kind":"inject"');
    c.send({ type: 'control', id: '5', runId: 'r', token, command: { type: 'pause' } });
    expect(await c.waitFor('error', (m) => m.id === '5')).toMatchObject({ code: 'run_finished' });
  });

  it('answers pings and drops a client that stops answering WebSocket pings', async () => {
    await viewer.close();
    viewer = await startViewer({ runsDir, port: 0, heartbeatMs: 80, validateOutgoing: true });
    const healthy = await client();
    const deaf = await TestClient.open(viewer.baseUrl, { autoPong: false });
    clients.push(deaf);
    await deaf.closed;
    healthy.send({ type: 'ping', id: 'p', t: 5 });
    expect(await healthy.waitFor('pong', (m) => m.id === 'p')).toMatchObject({ t: 5 });
    expect(healthy.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('rejects WebSocket upgrades from other sites', async () => {
    const ws = new WebSocket(wsUrl(viewer.baseUrl), { headers: { origin: 'http://evil.example' } });
    const status = await new Promise<number | undefined>((resolve) => {
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode));
      ws.on('open', () => resolve(101));
      ws.on('error', () => resolve(undefined));
    });
    expect(status).toBe(403);
    ws.terminate();
  });

  it('answers only to its own host names (no DNS rebinding)', async () => {
    const status = (host: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request(viewer.baseUrl, { headers: { host } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
    expect(await status(`localhost:${viewer.port}`)).toBe(200);
    expect(await status(`attacker.example:${viewer.port}`)).toBe(403);
    const ws = new WebSocket(wsUrl(viewer.baseUrl), { headers: { host: `attacker.example:${viewer.port}`, origin: `http://attacker.example:${viewer.port}` } });
    // Refused upgrades also surface as socket errors; the status code is what counts here.
    ws.on('error', () => undefined);
    const code = await new Promise<number | undefined>((resolve) => {
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode));
      ws.on('open', () => resolve(101));
    });
    expect(code).toBe(403);
    ws.terminate();
  });

  it('serves the app with a strict content security policy and nothing else', async () => {
    const get = (path: string) =>
      new Promise<{ status: number; type: string; csp: string; body: string }>((resolve, reject) => {
        const req = request(`${viewer.baseUrl.replace(/\/$/, '')}${path}`, (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), csp: String(res.headers['content-security-policy']), body }));
        });
        req.on('error', reject);
        req.end();
      });
    const index = await get('/');
    expect(index.status).toBe(200);
    expect(index.type).toContain('text/html');
    expect(index.csp).toContain("script-src 'self'");
    expect((await get('/app.js')).type).toContain('javascript');
    expect((await get('/../package.json')).status).toBe(404);
    expect((await get('/%2e%2e/package.json')).status).toBe(404);
    expect((await get('/protocol.ts')).status).toBe(404);
  });
});
