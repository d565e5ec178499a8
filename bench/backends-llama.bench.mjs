// The in-process llama-cpp backend on a tiny GGUF model (test/helpers/tiny-gguf.ts, ~100k parameters,
// written here): tokens/s of node-llama-cpp's engine on its own, and through agent.stream() with the
// simulator's document, stop tags and usage; per-turn latency to the first delta and to the finish.
// Part of `npm run bench -- backends`, beside the HTTP backends' figures (bench/backends.bench.mjs).
// The model is so small that these figures are the engine's and the arena's per-token overhead, not a
// real model's speed.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { createAgent } from '../dist/agents/create-agent.js';
import { AgentSpecSchema } from '../dist/agents/spec.js';

const TOKENS = 500;
const TURNS = 10;
const THREADS = 1;

/** The test helper is TypeScript; vite (which vitest ships) strips its types so it runs here as it is. */
async function tinyGguf(dir) {
  const { transformWithOxc } = await import('vite');
  const source = readFileSync(new URL('../test/helpers/tiny-gguf.ts', import.meta.url), 'utf8');
  const { code } = await transformWithOxc(source, 'tiny-gguf.ts', { lang: 'ts' });
  const file = join(dir, 'tiny-gguf.mjs');
  writeFileSync(file, code);
  return import(pathToFileURL(file).href);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function engineAlone(modelPath, prompt) {
  const { getLlama, LlamaCompletion } = await import('node-llama-cpp');
  const llama = await getLlama({ gpu: false, build: 'never', skipDownload: true });
  const model = await llama.loadModel({ modelPath });
  const context = await model.createContext({ contextSize: 1024, threads: THREADS });
  const completion = new LlamaCompletion({ contextSequence: context.getSequence() });
  try {
    await completion.generateCompletion(prompt, { maxTokens: TOKENS }); // warm up
    const t0 = performance.now();
    for (let t = 0; t < TURNS; t++) await completion.generateCompletion(prompt, { maxTokens: TOKENS });
    return Math.round((TURNS * TOKENS) / ((performance.now() - t0) / 1000));
  } finally {
    completion.dispose();
    await context.dispose();
    await model.dispose();
  }
}

export default async function () {
  const dir = mkdtempSync(join(tmpdir(), 'arena-bench-llama-'));
  try {
    const gguf = await tinyGguf(dir);
    // A model that never writes a newline: each turn runs to maxTokens, like the HTTP benches' 500-token turns.
    const model = gguf.writeTinyGguf(join(dir, 'babbler.gguf'), gguf.BABBLER);
    const spec = AgentSpecSchema.parse({
      id: 'a',
      name: 'Alice',
      backend: 'llama-cpp',
      modelPath: model.path,
      contextWindow: 1024,
      threads: THREADS,
      sampling: { maxTokens: TOKENS },
    });
    const agent = await createAgent(spec, { env: {}, scenarioDir: dir, logger: pino({ level: 'silent' }) });
    const options = () => ({
      transcript: [{ turn: 1, speakerId: 'b', speaker: 'Bob', text: 'hello', kind: 'turn' }],
      self: { id: 'a', name: 'Alice' },
      participants: [{ id: 'a', name: 'Alice' }, { id: 'b', name: 'Bob' }],
      turn: 2,
      signal: new AbortController().signal,
      sampling: {},
      stop: [],
      seed: 1,
    });
    let outputTokens = 0;
    for await (const _ of agent.stream(options())); // warm up: loads the model
    const first = [];
    const whole = [];
    const t0 = performance.now();
    for (let t = 0; t < TURNS; t++) {
      const start = performance.now();
      let gotFirst = false;
      for await (const p of agent.stream(options())) {
        if (p.type === 'text-delta' && !gotFirst) {
          gotFirst = true;
          first.push(performance.now() - start);
        }
        if (p.type === 'finish') outputTokens += p.usage.outputTokens;
      }
      whole.push(performance.now() - start);
    }
    const secs = (performance.now() - t0) / 1000;
    await agent.close?.();
    const agentTokensPerSec = Math.round(outputTokens / secs);
    const engineTokensPerSec = await engineAlone(model.path, 'A conversation between Alice, Bob.\n\nBob: hello\nAlice:');
    return {
      model: { parameters: model.parameters, bytes: model.bytes, threads: THREADS },
      tokensPerTurn: TOKENS,
      'llama-cpp': {
        tokensPerSec: agentTokensPerSec,
        engineAloneTokensPerSec: engineTokensPerSec,
        agentOverEngine: Number((agentTokensPerSec / engineTokensPerSec).toFixed(2)),
        medianFirstDeltaMs: Number(median(first).toFixed(1)),
        medianTurnMs: Number(median(whole).toFixed(1)),
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
