// Attractor detection: accuracy on the project's own evaluation set (bench/eval), keyword-analysis speed,
// the offline embedder's rate against the model's own batched rate, and a live run's turn pace with
// embeddings on versus off. Imports the built output: run `npm run build` first (npm run bench does).
import { mkdtempSync, rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BUILTIN_ATTRACTORS,
  BUILTIN_NAMES,
  ConversationAnalyzer,
  EmbeddingQueue,
  analyzeTurns,
  analysisObserverForScenario,
  computeCentroids,
  createOfflineEmbedder,
} from '../dist/analysis/index.js';
import { runScenario } from '../dist/arena/run.js';
import { ScenarioSchema } from '../dist/arena/scenario.js';
import { readRunLog } from '../dist/runlog/reader.js';
import { evaluationSet } from './eval/load.mjs';
import { firstOnsets, scoreDetections } from './eval/score.mjs';

async function evaluate(cases, options) {
  const detections = new Map();
  const queue = [...cases];
  // A few conversations at a time, so batches from several of them keep an embedder busy.
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let c = queue.shift(); c; c = queue.shift()) {
        const { events } = await analyzeTurns(c.turns, options);
        detections.set(c.id, firstOnsets(events));
      }
    }),
  );
  return scoreDetections(cases, detections, BUILTIN_NAMES);
}

/**
 * Text-only analysis of every turn of the set, again and again: one second to warm the JIT up, then three
 * rounds of two seconds, medians reported. Per wall-clock second and per CPU second of this process: on a
 * shared machine the wall rate also measures the neighbours.
 */
function keywordRate(cases) {
  const round = (ms) => {
    let turns = 0;
    const start = performance.now();
    const cpu0 = process.cpuUsage();
    while (performance.now() - start < ms) {
      for (const c of cases) {
        const a = new ConversationAnalyzer({ attractors: BUILTIN_ATTRACTORS });
        for (const t of c.turns) a.analyze(t);
        turns += c.turns.length;
      }
    }
    const cpu = process.cpuUsage(cpu0);
    return { wall: turns / ((performance.now() - start) / 1000), cpu: turns / ((cpu.user + cpu.system) / 1e6) };
  };
  round(1000);
  const rounds = [round(2000), round(2000), round(2000)];
  return {
    perWallSecond: Math.round(median(rounds.map((r) => r.wall))),
    perCpuSecond: Math.round(median(rounds.map((r) => r.cpu))),
    samples: rounds.map((r) => ({ perWallSecond: Math.round(r.wall), perCpuSecond: Math.round(r.cpu) })),
  };
}

/**
 * The model's own batched rate (in this thread, batches of 32) against our embedder (worker thread fed by
 * an EmbeddingQueue), alternating three times so a busy neighbour hurts both alike; medians reported.
 */
async function embeddingRates(texts) {
  const raw = createOfflineEmbedder({ inProcess: true });
  const worker = createOfflineEmbedder();
  await raw.embed(['warm up']);
  await worker.embed(['warm up']);
  const rawRates = [];
  const ourRates = [];
  for (let round = 0; round < 3; round++) {
    let t = performance.now();
    for (let i = 0; i < texts.length; i += 32) await raw.embed(texts.slice(i, i + 32));
    rawRates.push(texts.length / ((performance.now() - t) / 1000));
    const queue = new EmbeddingQueue(worker, 32);
    t = performance.now();
    await Promise.all(texts.map((x) => queue.embed(x)));
    ourRates.push(texts.length / ((performance.now() - t) / 1000));
  }
  await raw.close();
  await worker.close();
  const rawRate = median(rawRates);
  const ours = median(ourRates);
  return {
    texts: texts.length,
    modelBatchedTextsPerSec: round(rawRate, 1),
    embedderTextsPerSec: round(ours, 1),
    ratio: round(ours / rawRate, 3),
    samples: { model: rawRates.map((x) => round(x, 1)), embedder: ourRates.map((x) => round(x, 1)) },
  };
}

/** A 40-turn scripted run paced like a model (one word per 4 ms chunk), with and without embeddings. */
async function livePace(embeddings) {
  const dir = mkdtempSync(join(tmpdir(), 'arena-bench-'));
  try {
    const drift = { kind: 'drift', from: 'research', to: 'bliss', onsetTurn: 15, rampTurns: 3, chunkDelayMs: 4, chunkWords: 1 };
    const scenario = ScenarioSchema.parse({
      name: 'bench-live',
      agents: [
        { id: 'a', backend: 'scripted', generator: drift },
        { id: 'b', backend: 'scripted', generator: drift },
      ],
      limits: { maxTurns: 40 },
    });
    const observer = await analysisObserverForScenario(scenario, { scenarioDir: dir, embeddings });
    const t0 = performance.now();
    const result = await runScenario({ scenario, scenarioDir: dir, runsDir: dir, observers: [observer] });
    const wallMs = performance.now() - t0;
    const { events } = await readRunLog(join(result.runDir, 'events.jsonl'));
    const first = Date.parse(events.find((e) => e.type === 'turn.started').ts);
    const last = Date.parse(events.findLast((e) => e.type === 'turn.completed').ts);
    return { turns: result.turns, turnLoopMs: last - first, wallMs: Math.round(wallMs) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export default async function () {
  const cases = evaluationSet();
  const groups = {};
  for (const c of cases) groups[c.group] = (groups[c.group] ?? 0) + 1;
  const turnCount = cases.reduce((n, c) => n + c.turns.length, 0);

  const keywordTurnsPerSec = keywordRate(cases);
  const keyword = await evaluate(cases, { detectors: BUILTIN_ATTRACTORS });

  const embedder = createOfflineEmbedder();
  const t = performance.now();
  const centroids = await computeCentroids(BUILTIN_ATTRACTORS, embedder);
  const withEmbeddings = await evaluate(cases, { detectors: BUILTIN_ATTRACTORS, embedder, centroids });
  const embeddedEvalSec = (performance.now() - t) / 1000;
  await embedder.close();

  const texts = cases.flatMap((c) => c.turns.map((x) => x.text)).filter((x) => x.trim() !== '').slice(0, 256);
  // Off and on alternate, three times each, so load from elsewhere falls on both.
  const off = [];
  const on = [];
  for (let i = 0; i < 3; i++) {
    off.push(await livePace('none'));
    on.push(await livePace('offline'));
  }
  const loopOff = median(off.map((r) => r.turnLoopMs));
  const loopOn = median(on.map((r) => r.turnLoopMs));

  return {
    evaluationSet: { cases: cases.length, ...groups, turns: turnCount },
    keyword: keyword.perAttractor,
    keywordMistakes: keyword.mistakes,
    withOfflineEmbeddings: withEmbeddings.perAttractor,
    withOfflineEmbeddingsMistakes: withEmbeddings.mistakes,
    embeddedEvaluationSec: round(embeddedEvalSec, 1),
    keywordTurnsPerSec,
    loadAverage: os.loadavg().map((x) => round(x, 2)),
    cpus: os.cpus().length,
    offlineEmbedding: await embeddingRates(texts),
    liveRun: {
      turns: off[0].turns,
      turnLoopMsOff: loopOff,
      turnLoopMsOn: loopOn,
      turnLoopSlowdown: round(loopOn / loopOff - 1, 3),
      wallMsOn: median(on.map((r) => r.wallMs)),
      samples: { off, on },
    },
  };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function round(x, digits) {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
