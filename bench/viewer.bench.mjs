// Viewer delivery under load: 200 concurrent scripted runs in this process, attached to one viewer
// server; one WebSocket client in a separate process subscribes to all of them. Figures: delivery
// latency (event timestamp → client receipt) p50/p99 of live events, the same over every persisted event
// (history replayed to the client included: how late a run's events reach a viewer at all), events lost,
// server CPU time and peak RSS of the server process.
// Knobs: VIEWER_BENCH_RUNS (200), VIEWER_BENCH_TURNS (12), VIEWER_BENCH_CHUNK_MS (25).
import { spawn } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRun } from '../dist/arena/run.js';
import { ScenarioSchema } from '../dist/arena/scenario.js';
import { startViewer } from '../dist/viewer/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

// The client: subscribes to every run it hears of, measures latency on live events (after its
// history replay), and reports when told how many events to expect.
const CLIENT = `
import { WebSocket } from 'ws';
import { createInterface } from 'node:readline';
const ws = new WebSocket(process.argv[1]);
const subscribed = new Set(), live = new Set();
const latencies = [], deltaLat = [], persistedLat = [], everyPersisted = [], steadyLat = [];
let received = 0, persisted = 0, deltas = 0, outOfOrder = 0, expected = Infinity;
const lastSeq = new Map();
const subscribe = (ids) => {
  const runs = ids.filter((id) => !subscribed.has(id)).map((runId) => ({ runId, afterSeq: 0 }));
  for (const r of runs) subscribed.add(r.runId);
  if (runs.length) ws.send(JSON.stringify({ type: 'subscribe', runs }));
};
ws.on('open', () => { ws.send(JSON.stringify({ type: 'list' })); process.stdout.write('ready\\n'); });
ws.on('message', (data) => {
  const now = Date.now();
  const m = JSON.parse(String(data));
  if (m.type === 'runs') subscribe(m.runs.filter((r) => r.live).map((r) => r.runId));
  else if (m.type === 'run' && m.run.live) subscribe([m.run.runId]);
  else if (m.type === 'replayed') live.add(m.runId);
  else if (m.type === 'events') {
    for (const e of m.events) {
      received++;
      if (e.type === 'turn.delta') deltas++;
      else {
        persisted++;
        everyPersisted.push(now - Date.parse(e.ts));
        if (e.seq <= (lastSeq.get(m.runId) ?? 0)) outOfOrder++;
        lastSeq.set(m.runId, e.seq);
      }
      if (live.has(m.runId)) {
        const ms = now - Date.parse(e.ts);
        latencies.push(ms);
        (e.type === 'turn.delta' ? deltaLat : persistedLat).push(ms);
        if ((e.turn ?? 0) >= 3) steadyLat.push(ms);
      }
    }
    if (persisted >= expected) report();
  }
});
ws.on('close', () => report());
createInterface({ input: process.stdin }).on('line', (line) => {
  expected = Number(line);
  if (persisted >= expected) report();
  setTimeout(report, 15000).unref();
});
let reported = false;
function report() {
  if (reported || expected === Infinity) return;
  reported = true;
  for (const l of [latencies, deltaLat, persistedLat, everyPersisted, steadyLat]) l.sort((a, b) => a - b);
  const q = (l, p) => l[Math.min(l.length - 1, Math.floor(p * l.length))] ?? null;
  const result = { received, persisted, deltas, measured: latencies.length, outOfOrder, p50: q(latencies, 0.5), p99: q(latencies, 0.99), max: latencies.at(-1) ?? null, deltaP99: q(deltaLat, 0.99), persistedP99: q(persistedLat, 0.99), everyP50: q(everyPersisted, 0.5), everyP99: q(everyPersisted, 0.99), everyMax: everyPersisted.at(-1) ?? null, steadyN: steadyLat.length, steadyP99: q(steadyLat, 0.99), steadyMax: steadyLat.at(-1) ?? null };
  process.stdout.write(JSON.stringify(result) + '\\n');
  process.exit(0);
}
`;

export default async function () {
  const runs = Number(process.env.VIEWER_BENCH_RUNS ?? 200);
  const turns = Number(process.env.VIEWER_BENCH_TURNS ?? 12);
  const chunkDelayMs = Number(process.env.VIEWER_BENCH_CHUNK_MS ?? 25);
  const runsDir = mkdtempSync(join(tmpdir(), 'arena-bench-viewer-'));
  const viewer = await startViewer({ runsDir, port: 0, pushIntervalMs: 50 });
  const client = spawn(process.execPath, ['--input-type=module', '-e', CLIENT, viewer.baseUrl.replace(/^http/, 'ws') + 'ws'], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  client.stdout.on('data', (d) => (out += d));
  const lineFromClient = (pred) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const line = out.split('\n').find(pred);
        if (line) resolve(line);
      };
      client.stdout.on('data', check);
      client.on('exit', () => (out.split('\n').find(pred) ? check() : reject(new Error('bench client exited early'))));
      check();
    });
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  try {
    await lineFromClient((l) => l === 'ready');
    const gen = (from) => ({ kind: 'drift', from, to: 'bliss', onsetTurn: Math.ceil(turns / 2), chunkDelayMs, chunkWords: 1 });
    const scenario = ScenarioSchema.parse({
      name: 'bench-viewer',
      agents: [
        { id: 'a', backend: 'scripted', generator: gen('research') },
        { id: 'b', backend: 'scripted', generator: gen('research') },
      ],
      limits: { maxTurns: turns },
    });
    let deltasEmitted = 0;
    const started = performance.now();
    const cpuAtStart = process.cpuUsage();
    const handles = await Promise.all(
      Array.from({ length: runs }, async () => {
        const handle = await startRun({ scenario, scenarioDir: runsDir, runsDir, keepEvents: true });
        viewer.attach(handle);
        handle.subscribe((e) => {
          if (e.type === 'turn.delta') deltasEmitted++;
        });
        return handle;
      }),
    );
    await Promise.all(handles.map((h) => h.done));
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuAtStart);
    // Seqs run 1…lastSeq in every log: that many persisted events must reach the client.
    const persisted = handles.reduce((n, h) => n + h.lastSeq(), 0);
    client.stdin.write(`${persisted}\n`);
    const stats = JSON.parse(await lineFromClient((l) => l.startsWith('{')));
    return {
      runs,
      turnsPerRun: turns,
      persistedEvents: persisted,
      persistedReceived: stats.persisted,
      persistedLost: Math.max(0, persisted - stats.persisted),
      outOfOrder: stats.outOfOrder,
      // Deltas emitted before the client subscribed to a run (its first ~50 ms) are not replayed unless in flight.
      deltasEmitted,
      deltasReceived: stats.deltas,
      eventsPerSec: Math.round((persisted + deltasEmitted) / seconds),
      // Live events only (those after the client's replay of their run): a viewer that goes live sooner
      // counts more of the start-up burst, when 200 runs begin at once, here.
      latencyMeasuredEvents: stats.measured,
      latencyP50Ms: stats.p50,
      latencyP99Ms: stats.p99,
      latencyMaxMs: stats.max,
      // Live events from each run's third turn on, after the start-up burst: the same events for any viewer
      // that is live by then, so these compare across versions whatever the start-up measured.
      steadyLatencyMeasuredEvents: stats.steadyN,
      steadyLatencyP99Ms: stats.steadyP99,
      steadyLatencyMaxMs: stats.steadyMax,
      deltaLatencyP99Ms: stats.deltaP99,
      persistedLatencyP99Ms: stats.persistedP99,
      // Every persisted event, live or replayed: a run's first events wait for the client to hear of the run
      // (run-list pushes every 50 ms) and subscribe.
      everyPersistedLatencyP50Ms: stats.everyP50,
      everyPersistedLatencyP99Ms: stats.everyP99,
      everyPersistedLatencyMaxMs: stats.everyMax,
      goalP99Under100Ms: stats.p99 !== null && stats.p99 <= 100,
      // Runs and viewer together, from the first startRun until every run has ended.
      serverCpuMs: Math.round((cpu.user + cpu.system) / 1000),
      serverPeakRssMB: Math.round(peakRss / 2 ** 20),
      // How late the server process's event loop ran (runs and viewer share it): the floor under any latency.
      eventLoopDelayP99Ms: Math.round(loop.percentile(99) / 1e6),
    };
  } finally {
    clearInterval(sampler);
    client.kill();
    await viewer.close();
    rmSync(runsDir, { recursive: true, force: true });
  }
}
