import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startViewer, type Viewer } from '../../src/viewer/server.js';
import { FakeRun } from './_fake-run.js';
import { TestClient } from './_ws-client.js';

let runsDir: string;
let viewer: Viewer | undefined;
const logLines: Record<string, unknown>[] = [];
const sink = new Writable({
  write(chunk, _enc, done) {
    for (const line of String(chunk).split('\n')) if (line) logLines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  },
});

beforeEach(() => {
  runsDir = mkdtempSync(join(tmpdir(), 'viewer-flow-'));
  logLines.length = 0;
});
afterEach(async () => {
  await viewer?.close();
  viewer = undefined;
  rmSync(runsDir, { recursive: true, force: true });
});

/** A client that speaks just enough WebSocket to subscribe, then reads only when told to. */
async function rawClient(port: number, subscribe: unknown): Promise<Socket> {
  const sock = connect(port, '127.0.0.1');
  // Being dropped may end in a reset; the test reads what arrived and watches for 'close'.
  sock.on('error', () => undefined);
  await new Promise((resolve) => sock.once('connect', resolve));
  sock.write(
    `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  const head = await new Promise<string>((resolve) => sock.once('data', (d) => resolve(String(d))));
  expect(head).toMatch(/^HTTP\/1.1 101/);
  const payload = Buffer.from(JSON.stringify(subscribe));
  const mask = randomBytes(4);
  const header = payload.length < 126 ? Buffer.from([0x81, 0x80 | payload.length]) : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 255]);
  sock.write(Buffer.concat([header, mask, Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!))]));
  return sock;
}

/** Parse unmasked server text frames out of a byte stream; returns whole messages and the rest. */
function frames(buf: Buffer): { messages: string[]; rest: Buffer } {
  const messages: string[] = [];
  let off = 0;
  for (;;) {
    if (buf.length - off < 2) break;
    let len = buf[off + 1]! & 127;
    let start = off + 2;
    if (len === 126) {
      if (buf.length - off < 4) break;
      len = buf.readUInt16BE(off + 2);
      start = off + 4;
    } else if (len === 127) {
      if (buf.length - off < 10) break;
      len = Number(buf.readBigUInt64BE(off + 2));
      start = off + 10;
    }
    if (buf.length < start + len) break;
    if ((buf[off]! & 15) === 1) messages.push(buf.subarray(start, start + len).toString('utf8'));
    off = start + len;
  }
  return { messages, rest: buf.subarray(off) };
}

describe('viewer flow control', () => {
  it('drops a client that stops reading, never holds the run back, and lets it resume by seq', async () => {
    viewer = await startViewer({ runsDir, port: 0, maxClientBufferBytes: 256 * 1024, logger: pino({ level: 'warn' }, sink) });
    const run = new FakeRun(runsDir, 'busy');
    viewer.attach(run);
    run.start();
    const steady = await TestClient.open(viewer.baseUrl);
    steady.send({ type: 'subscribe', runs: [{ runId: 'busy' }] });
    await steady.waitFor('replayed');
    const slow = await rawClient(viewer.port, { type: 'subscribe', runs: [{ runId: 'busy' }] });
    let received = Buffer.alloc(0);
    const onData = (d: Buffer) => (received = Buffer.concat([received, d]));
    slow.on('data', onData);
    await new Promise<void>((resolve) => {
      const check = () => (frames(received).messages.some((m) => m.includes('"replayed"')) ? resolve() : slow.once('data', check));
      check();
    });
    slow.pause();

    const big = 'x'.repeat(64 * 1024);
    const started = performance.now();
    for (let t = 1; t <= 600; t++) {
      const turn = await run.begin(t % 2 ? 'a' : 'b', []);
      run.complete(turn, t % 2 ? 'a' : 'b', `${t} ${big}`);
      // Let the sockets move, as a real run's awaits would.
      await new Promise((resolve) => setImmediate(resolve));
    }
    const publishMs = performance.now() - started;
    run.finish();
    await steady.waitForEvent('busy', (e) => e.type === 'run.finished', 15_000);
    expect(steady.events('busy').filter((e) => e.type !== 'turn.delta').map((e) => e.seq)).toEqual(run.published.map((e) => e.seq));
    expect(logLines.some((l) => String(l['msg']).includes('dropping a client'))).toBe(true);

    // The dropped client reads what reached it, sees the end of the stream, and resumes from its last seq.
    const ended = new Promise((resolve) => slow.once('close', resolve));
    slow.resume();
    await ended;
    const got = frames(received)
      .messages.map((m) => JSON.parse(m) as { type: string; events?: { seq: number }[] })
      .flatMap((m) => (m.type === 'events' ? (m.events ?? []) : []));
    const lastSeen = got.at(-1)?.seq ?? 0;
    expect(lastSeen).toBeLessThan(run.lastSeq());
    const back = await TestClient.open(viewer.baseUrl);
    back.send({ type: 'subscribe', runs: [{ runId: 'busy', afterSeq: lastSeen }] });
    await back.waitFor('replayed', () => true, 15_000);
    const all = [...got.map((e) => e.seq), ...back.events('busy').map((e) => e.seq)];
    expect(all).toEqual(run.published.map((e) => e.seq));
    expect(publishMs).toBeLessThan(10_000);
    steady.ws.terminate();
    back.ws.terminate();
  });

  // A run that keeps its events gives the viewer its history itself; one that does not is caught up from its log.
  it.each([true, false])('attaching to a run whose log writer lags leaves no gap (run keeps its events: %s)', async (keepsEvents) => {
    viewer = await startViewer({ runsDir, port: 0, validateOutgoing: true });
    const run = new FakeRun(runsDir, 'laggy', undefined, undefined, keepsEvents);
    run.start();
    await run.turn('a', 'on disk');
    run.holdWrites = true;
    await run.turn('b', 'still in the writer buffer');
    viewer.attach(run);
    const c = await TestClient.open(viewer.baseUrl);
    c.send({ type: 'subscribe', runs: [{ runId: 'laggy' }] });
    await run.turn('a', 'live after attach');
    run.flushWrites();
    await c.waitFor('replayed');
    await run.turn('b', 'later still');
    await c.waitForEvent('laggy', (e) => e.type === 'turn.completed' && e.text === 'later still');
    expect(c.events('laggy').filter((e) => e.type !== 'turn.delta').map((e) => e.seq)).toEqual(run.published.map((e) => e.seq));
    c.ws.terminate();
  });
});
