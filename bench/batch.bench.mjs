// Batch throughput and memory, each figure a ratio or rate measured in this one run:
// - latencyBound: 500 concurrent runs of 50 turns (the run length of the memory figure), every turn taking
//   100 ms (scripted agents pausing 100 ms inside each turn); achieved turns/s over the ideal 500 × 10 =
//   5,000 turns/s (goal ≥ 0.95); in one process and with `--processes 2` (a pool of two child processes).
//   Also from the logs: how long the runs took to start, and the steady-state ratio while all of them were
//   under way. The process is cold, as `arena batch` is: no warm-up run.
// - latencyBoundShortRuns: the same with runs of 20 turns (2 s each), where the start-up of 500 runs
//   (about 0.1 s) weighs 2.5 times as much: the figure earlier sessions reported.
// - latencyBoundHttp: the same against a local OpenAI-style server (child process) answering after 100 ms,
//   through the real openai backend (SDK + fetch): what the HTTP stack costs on top.
// - cpuBound: instant scripted agents, run logs written and keyword analysis on → turns/s (goal ≥ 10,000);
//   also with `--processes 2`, and without analysis for comparison.
// - memory: 1,000 concurrent runs of 50 turns in a fresh process → peak RSS in MB (goal ≤ 1,024).
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBatch, loadPlan, localExecutor, runBatch } from '../dist/batch/index.js';
import { processPool } from '../dist/batch/process-pool.js';
import { silentLogger } from '../dist/logger.js';
import { lockRunDir } from '../dist/runlog/writer-lock.js';

const SELF = fileURLToPath(import.meta.url);

function writePlan(dir, scenario, plan) {
  writeFileSync(join(dir, 'scenario.yaml'), scenario);
  writeFileSync(join(dir, 'plan.yaml'), plan);
  return join(dir, 'plan.yaml');
}

/** As `arena batch` runs a plan: the batch lock held, which covers every run folder in it. */
async function timedBatch(planFile, runsDir, options = {}) {
  const loaded = await loadPlan(planFile);
  const { manifest, batchDir } = createBatch(loaded, runsDir);
  const unlock = lockRunDir(batchDir, join(batchDir, 'batch.json'), 'batch');
  try {
    if (options.processes > 1) {
      const pool = await processPool({ batchId: manifest.batchId, batchDir, processes: options.processes, env: options.env ?? {}, logLevel: 'silent', analysis: Boolean(options.observersFor), batchLocked: true });
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

async function latencyBound(dir, processes = 1, turns = 50) {
  const runs = 500;
  // Two one-word chunks with 100 ms between them: 100 ms a turn.
  const agent = (id) => `  - { id: ${id}, backend: scripted, generator: { kind: cycle, templates: ["calm reply"], chunkWords: 1, chunkDelayMs: 100 } }`;
  const planFile = writePlan(
    dir,
    `name: latency\nagents:\n${agent('a')}\n${agent('b')}\nlimits: { maxTurns: ${turns} }\n`,
    `scenarios: [scenario.yaml]\nrepetitions: ${runs}\nconcurrency: ${runs}\n`,
  );
  const { summary, seconds, batchDir } = await timedBatch(planFile, join(dir, `latency-runs-${processes}-${turns}`), { processes });
  const ideal = runs * (1000 / 100);
  const achieved = summary.turns / seconds;
  return {
    processes,
    runs,
    turnsPerRun: turns,
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

async function latencyBoundHttp(dir) {
  const runs = 500;
  const turns = 5;
  const server = await startSlowServer(100);
  try {
    const planFile = writePlan(
      dir,
      `name: latency\nagents:\n  - { id: a, backend: scripted, generator: { kind: echo } }\n  - { id: b, backend: scripted, generator: { kind: echo } }\nlimits: { maxTurns: ${turns} }\n`,
      `scenarios: [scenario.yaml]\nmodels:\n  - { id: slow, backend: openai, model: bench, baseURL: "${server.baseURL}", maxRetries: 0 }\nrepetitions: ${runs}\nconcurrency: ${runs}\n`,
    );
    const { summary, seconds } = await timedBatch(planFile, join(dir, 'http-runs'), { env: { OPENAI_API_KEY: 'bench-not-a-key' } });
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

async function cpuBound(dir, withAnalysis, processes = 1) {
  const runs = 600;
  const turns = 50;
  const planFile = writePlan(
    dir,
    `name: cpu\nagents:\n  - { id: a, backend: scripted, generator: { kind: drift, from: research, to: bliss, onsetTurn: 10 } }\n  - { id: b, backend: scripted, generator: { kind: drift, from: research, to: bliss, onsetTurn: 10 } }\nlimits: { maxTurns: ${turns} }\n`,
    `scenarios: [scenario.yaml]\nrepetitions: ${runs}\nconcurrency: 50\n`,
  );
  const observersFor = withAnalysis ? await analysisObservers() : undefined;
  const { summary, seconds } = await timedBatch(planFile, join(dir, `cpu-runs-${withAnalysis}-${processes}`), { processes, ...(observersFor ? { observersFor } : {}) });
  return { processes, runs, turnsPerRun: turns, completed: summary.runs.completed, analysis: Boolean(observersFor), seconds: round(seconds), turnsPerSec: round(summary.turns / seconds) };
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
  await new Promise((r) => child.on('exit', r));
  return JSON.parse(out.trim().split('\n').pop());
}

async function latencyChild(processes, turns) {
  const dir = mkdtempSync(join(tmpdir(), 'arena-bench-latency-'));
  try {
    process.stdout.write(JSON.stringify(await latencyBound(dir, processes, turns)) + '\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const round = (x, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

export default async function batchBench() {
  const dir = mkdtempSync(join(tmpdir(), 'arena-bench-batch-'));
  try {
    const latency = await inChild('--latency-child', '1', '50');
    const latency2 = await inChild('--latency-child', '2', '50');
    const latencyShort = await inChild('--latency-child', '1', '20');
    const http = await latencyBoundHttp(dir);
    const cpu = await cpuBound(dir, true);
    const cpu2 = await cpuBound(dir, true, 2);
    const cpuNoAnalysis = await cpuBound(dir, false);
    const mem = await inChild('--memory-child');
    return { latencyBound: latency, latencyBoundTwoProcesses: latency2, latencyBoundShortRuns: latencyShort, latencyBoundHttp: http, cpuBound: cpu, cpuBoundTwoProcesses: cpu2, cpuBoundWithoutAnalysis: cpuNoAnalysis, memory: mem };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === SELF && process.argv[2] === '--memory-child') {
  await memoryChild();
} else if (process.argv[1] === SELF && process.argv[2] === '--latency-child') {
  await latencyChild(Number(process.argv[3]), Number(process.argv[4]));
} else if (process.argv[1] === SELF) {
  console.log(JSON.stringify(await batchBench(), null, 2));
}
