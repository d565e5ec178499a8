// Batch throughput and memory, each figure a ratio or rate measured in this one run, each in a fresh
// process. "Warm" figures run an untimed warm-up batch first in that process, so the code is compiled as
// it is a few seconds into an overnight batch; "cold" ones time the first batch the process runs, as
// `arena batch` starts (start-up then includes compiling the code).
// - latencyBound: 500 concurrent runs of 50 turns (the run shape of the memory figure), every turn taking
//   100 ms (scripted agents pausing 100 ms inside each turn); achieved turns/s over the ideal 500 × 10 =
//   5,000 turns/s (goal ≥ 0.95). Warm; also cold, cold with `--processes 2` (a pool of two child
//   processes), and with runs of 20 turns (2 s each, where start-up weighs 2.5 times as much) warm and
//   cold. From the logs: how long the runs took to start, and the steady-state ratio while all of them
//   were under way.
// - latencyBoundHttp: 500 runs against a local OpenAI-style server (child process) answering after 100 ms,
//   through the real openai backend (SDK + fetch): what the HTTP stack costs on top. Also with 50 runs of
//   20 turns (an ideal of 500 requests/s), a load this machine can carry.
// - cpuBound: instant scripted agents, run logs written and keyword analysis on → turns/s (goal ≥ 10,000);
//   warm, cold, cold with `--processes 2`, and warm without analysis for comparison.
// - memory: 1,000 concurrent runs of 50 turns → peak RSS in MB (goal ≤ 1,024).
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBatch, loadPlan, localExecutor, runBatch } from '../dist/batch/index.js';
import { processPool } from '../dist/batch/process-pool.js';
import { RUN_OBSERVERS_MODULE } from '../dist/app/run-observers.js';
import { silentLogger } from '../dist/logger.js';
import { lockRunDir } from '../dist/runlog/writer-lock.js';

const SELF = fileURLToPath(import.meta.url);

function writePlan(dir, scenario, plan) {
  writeFileSync(join(dir, 'scenario.yaml'), scenario);
  writeFileSync(join(dir, 'plan.yaml'), plan);
  return join(dir, 'plan.yaml');
}

/** A plan `<name>.plan.yaml` of `runs` repetitions of scenario `<name>.yaml` (all at once by default). */
function writePlanAs(dir, name, scenario, runs, concurrency = runs) {
  writeFileSync(join(dir, `${name}.yaml`), scenario);
  writeFileSync(join(dir, `${name}.plan.yaml`), `scenarios: [${name}.yaml]\nrepetitions: ${runs}\nconcurrency: ${concurrency}\n`);
  return join(dir, `${name}.plan.yaml`);
}

/**
 * As `arena batch` runs a plan: the batch lock held, which covers every run folder in it. With `warmup`
 * (a plan file), that batch runs first, untimed, in this process: the code the timed batch runs is then
 * compiled, as it is a few seconds into an overnight batch.
 */
async function timedBatch(planFile, runsDir, options = {}) {
  if (options.warmup) await timedBatch(options.warmup, `${runsDir}-warmup`, { ...options, warmup: undefined });
  const loaded = await loadPlan(planFile);
  const { manifest, batchDir } = createBatch(loaded, runsDir);
  const unlock = lockRunDir(batchDir, join(batchDir, 'batch.json'), 'batch');
  try {
    if (options.processes > 1) {
      const pool = await processPool({ batchId: manifest.batchId, batchDir, processes: options.processes, env: options.env ?? {}, logLevel: 'silent', ...(options.observersFor ? { observersModule: RUN_OBSERVERS_MODULE } : {}), batchLocked: true });
      const t0 = performance.now();
      const summary = await runBatch(manifest, batchDir, { executor: pool });
      const seconds = (performance.now() - t0) / 1000;
      await pool.close();
      return { summary, seconds, batchDir };
    }
    const executor = localExecutor({ batchId: manifest.batchId, batchDir, env: options.env ?? {}, logger: silentLogger(), batchLocked: true, ...(options.observersFor ? { observersFor: options.observersFor } : {}) });
    const t0 = performance.now();
    const summary = await runBatch(manifest, batchDir, { executor });
    const seconds = (performance.now() - t0) / 1000;
    return { summary, seconds, batchDir };
  } finally {
    unlock();
  }
}

/** An OpenAI-style streaming server in a child process (so it does not share the batch's event loop). */
async function startSlowServer(delayMs) {
  const code = `
    const http = require('node:http');
    const srv = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => setTimeout(() => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const c = (delta, finish) => 'data: ' + JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 0, model: 'bench', choices: [{ index: 0, delta, finish_reason: finish }] }) + '\\n\\n';
        res.write(c({ role: 'assistant', content: 'a short ' }, null) + c({ content: 'reply' }, null) + c({}, 'stop'));
        res.end('data: ' + JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 0, model: 'bench', choices: [], usage: { prompt_tokens: 20, completion_tokens: 2 } }) + '\\n\\ndata: [DONE]\\n\\n');
      }, ${delayMs}));
    });
    srv.keepAliveTimeout = 60000;
    srv.listen(0, '127.0.0.1', () => console.log(srv.address().port));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve) => child.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
  return { baseURL: `http://127.0.0.1:${port}/v1`, close: () => child.kill() };
}

async function latencyBound(dir, processes = 1, turns = 50, warm = false) {
  const runs = 500;
  // Two one-word chunks with 100 ms between them: 100 ms a turn.
  const agent = (id, delay = 100) => `  - { id: ${id}, backend: scripted, generator: { kind: cycle, templates: ["calm reply"], chunkWords: 1, chunkDelayMs: ${delay} } }`;
  const planFile = writePlan(
    dir,
    `name: latency\nagents:\n${agent('a')}\n${agent('b')}\nlimits: { maxTurns: ${turns} }\n`,
    `scenarios: [scenario.yaml]\nrepetitions: ${runs}\nconcurrency: ${runs}\n`,
  );
  // The warm-up: the same 500 runs, 10 turns of 1 ms each.
  const warmup = warm ? writePlanAs(dir, 'warmup', `name: warmup\nagents:\n${agent('a', 1)}\n${agent('b', 1)}\nlimits: { maxTurns: 10 }\n`, runs) : undefined;
  const { summary, seconds, batchDir } = await timedBatch(planFile, join(dir, `latency-runs-${processes}-${turns}`), { processes, ...(warmup ? { warmup } : {}) });
  const ideal = runs * (1000 / 100);
  const achieved = summary.turns / seconds;
  return {
    processes,
    runs,
    turnsPerRun: turns,
    warm,
    completed: summary.runs.completed,
    seconds: round(seconds),
    turnsPerSec: round(achieved),
    idealTurnsPerSec: ideal,
    ratio: round(achieved / ideal, 3),
    ...phases(batchDir, ideal),
  };
}

/**
 * From the run logs' timestamps: how long the 500 runs took to start (first to last run.started), and
 * the steady-state ratio, turns completed per second while every run was under way (from the last
 * run.started to the first run.finished) over the ideal. The overall ratio mixes the two.
 */
function phases(batchDir, ideal) {
  const starts = [];
  const ends = [];
  const completed = [];
  for (const name of readdirSync(batchDir)) {
    const file = join(batchDir, name, 'events.jsonl');
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line) continue;
      const e = JSON.parse(line);
      const t = Date.parse(e.ts);
      if (e.type === 'run.started') starts.push(t);
      else if (e.type === 'run.finished') ends.push(t);
      else if (e.type === 'turn.completed') completed.push(t);
    }
  }
  const from = Math.max(...starts);
  const to = Math.min(...ends);
  const inWindow = completed.filter((t) => t > from && t <= to).length;
  return {
    startSpreadMs: from - Math.min(...starts),
    steadyWindowMs: to - from,
    steadyRatio: to > from ? round(inWindow / ((to - from) / 1000) / ideal, 3) : null,
  };
}

async function latencyBoundHttp(dir, runs = 500, turns = 5) {
  const server = await startSlowServer(100);
  try {
    const planFile = writePlan(
      dir,
      `name: latency\nagents:\n  - { id: a, backend: scripted, generator: { kind: echo } }\n  - { id: b, backend: scripted, generator: { kind: echo } }\nlimits: { maxTurns: ${turns} }\n`,
      `scenarios: [scenario.yaml]\nmodels:\n  - { id: slow, backend: openai, model: bench, baseURL: "${server.baseURL}", maxRetries: 0 }\nrepetitions: ${runs}\nconcurrency: ${runs}\n`,
    );
    const { summary, seconds } = await timedBatch(planFile, join(dir, `http-runs-${runs}`), { env: { OPENAI_API_KEY: 'bench-not-a-key' } });
    const ideal = runs * (1000 / 100);
    const achieved = summary.turns / seconds;
    return { runs, turnsPerRun: turns, completed: summary.runs.completed, seconds: round(seconds), turnsPerSec: round(achieved), idealTurnsPerSec: ideal, ratio: round(achieved / ideal, 3) };
  } finally {
    server.close();
  }
}

async function analysisObservers() {
  try {
    const { createAnalysisObserver, BUILTIN_ATTRACTORS } = await import('../dist/analysis/index.js');
    return async () => [createAnalysisObserver({ detectors: BUILTIN_ATTRACTORS })];
  } catch {
    return undefined;
  }
}

async function cpuBound(dir, withAnalysis, processes = 1, warm = false) {
  const runs = 600;
  const turns = 50;
  const scenario = (name) =>
    `name: ${name}\nagents:\n  - { id: a, backend: scripted, generator: { kind: drift, from: research, to: bliss, onsetTurn: 10 } }\n  - { id: b, backend: scripted, generator: { kind: drift, from: research, to: bliss, onsetTurn: 10 } }\nlimits: { maxTurns: ${turns} }\n`;
  const planFile = writePlan(dir, scenario('cpu'), `scenarios: [scenario.yaml]\nrepetitions: ${runs}\nconcurrency: 50\n`);
  // The warm-up: the same batch once, so the heap has grown to its working size too.
  const warmup = warm ? writePlanAs(dir, 'warmup', scenario('warmup'), runs, 50) : undefined;
  const observersFor = withAnalysis ? await analysisObservers() : undefined;
  const { summary, seconds } = await timedBatch(planFile, join(dir, `cpu-runs-${withAnalysis}-${processes}`), { processes, ...(observersFor ? { observersFor } : {}), ...(warmup ? { warmup } : {}) });
  return { processes, runs, turnsPerRun: turns, warm, completed: summary.runs.completed, analysis: Boolean(observersFor), seconds: round(seconds), turnsPerSec: round(summary.turns / seconds) };
}

/** Runs in a child process so its peak RSS is the batch's alone. */
async function memoryChild() {
  const dir = mkdtempSync(join(tmpdir(), 'arena-bench-mem-'));
  const runs = 1000;
  const planFile = writePlan(
    dir,
    // ~30 words a turn in two chunks 10 ms apart: every run stays alive for the whole batch.
    `name: mem\nagents:\n${['a', 'b'].map((id) => `  - { id: ${id}, backend: scripted, generator: { kind: cycle, templates: ["${'we keep talking about the quiet field notes and the odd measurements of the week, '.repeat(2)}turn {turn}"], chunkWords: 16, chunkDelayMs: 10 } }`).join('\n')}\nlimits: { maxTurns: 50 }\n`,
    `scenarios: [scenario.yaml]\nrepetitions: ${runs}\nconcurrency: ${runs}\n`,
  );
  let peak = 0;
  const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 25);
  const { summary, seconds } = await timedBatch(planFile, join(dir, 'runs'));
  clearInterval(sample);
  const maxRssBytes = process.resourceUsage().maxRSS * 1024;
  rmSync(dir, { recursive: true, force: true });
  process.stdout.write(JSON.stringify({ runs, turnsPerRun: 50, concurrent: runs, completed: summary.runs.completed, seconds: round(seconds), peakRssMB: round(Math.max(peak, maxRssBytes) / 2 ** 20) }) + '\n');
}

/** A figure measured in a fresh process (cold, as `arena batch` starts), its JSON read from stdout. */
async function inChild(...args) {
  const child = spawn(process.execPath, [SELF, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const code = await new Promise((r) => child.on('exit', r));
  if (code !== 0) throw new Error(`bench child ${args.join(' ')} exited with ${code}`);
  return JSON.parse(out.trim().split('\n').pop());
}

/** Prints the JSON of one figure, measured in this (fresh) process. */
async function figureChild(measure) {
  const dir = mkdtempSync(join(tmpdir(), 'arena-bench-batch-'));
  try {
    process.stdout.write(JSON.stringify(await measure(dir)) + '\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const round = (x, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

export default async function batchBench() {
  // Every figure in a fresh process. `warm`: after an untimed warm-up batch in that process (the JIT has
  // compiled the code, as a few seconds into an overnight batch); cold: the batch is the first thing the
  // process runs, as `arena batch` starts. Process pools are always cold (their children are new).
  const latency = await inChild('--latency-child', '1', '50', 'warm');
  const latencyCold = await inChild('--latency-child', '1', '50', 'cold');
  const latency2 = await inChild('--latency-child', '2', '50', 'cold');
  const latencyShort = await inChild('--latency-child', '1', '20', 'warm');
  const latencyShortCold = await inChild('--latency-child', '1', '20', 'cold');
  const http = await inChild('--http-child', '500', '5');
  const httpFewer = await inChild('--http-child', '50', '20');
  const cpu = await inChild('--cpu-child', 'analysis', '1', 'warm');
  const cpuCold = await inChild('--cpu-child', 'analysis', '1', 'cold');
  const cpu2 = await inChild('--cpu-child', 'analysis', '2', 'cold');
  const cpuNoAnalysis = await inChild('--cpu-child', 'no-analysis', '1', 'warm');
  const mem = await inChild('--memory-child');
  return {
    latencyBound: latency,
    latencyBoundCold: latencyCold,
    latencyBoundTwoProcesses: latency2,
    latencyBoundShortRuns: latencyShort,
    latencyBoundShortRunsCold: latencyShortCold,
    latencyBoundHttp: http,
    latencyBoundHttpFiftyRuns: httpFewer,
    cpuBound: cpu,
    cpuBoundCold: cpuCold,
    cpuBoundTwoProcesses: cpu2,
    cpuBoundWithoutAnalysis: cpuNoAnalysis,
    memory: mem,
  };
}

if (process.argv[1] === SELF && process.argv[2] === '--memory-child') {
  await memoryChild();
} else if (process.argv[1] === SELF && process.argv[2] === '--latency-child') {
  await figureChild((dir) => latencyBound(dir, Number(process.argv[3]), Number(process.argv[4]), process.argv[5] === 'warm'));
} else if (process.argv[1] === SELF && process.argv[2] === '--cpu-child') {
  await figureChild((dir) => cpuBound(dir, process.argv[3] === 'analysis', Number(process.argv[4]), process.argv[5] === 'warm'));
} else if (process.argv[1] === SELF && process.argv[2] === '--http-child') {
  await figureChild((dir) => latencyBoundHttp(dir, Number(process.argv[3]), Number(process.argv[4])));
} else if (process.argv[1] === SELF) {
  console.log(JSON.stringify(await batchBench(), null, 2));
}
