// Streaming overhead of the model backends: real SDK clients against a local server that streams a
// 500-token turn as fast as it can, in each provider's wire format. Figures: tokens/s through
// agent.stream() and per-turn latency to the first delta and to the finish, for each transport a request
// can leave by (our node:http fetch and undici's fetch on a keep-alive Agent), measured in alternating
// rounds so both share the machine's noise, and the ratio undici / node-http of each figure. Also
// manyShortRequests: 500 clients at once sending 10 short requests each to a server answering after
// 100 ms (a batch's shape), with the connections each transport opened and its CPU per request.
import { createServer } from 'node:http';
import { pino } from 'pino';
import { createAgent } from '../dist/agents/create-agent.js';
import { AgentSpecSchema } from '../dist/agents/spec.js';
import { DEFAULT_TRANSPORT, providerFetch } from '../dist/agents/remote/provider-fetch.js';

const TOKENS = 500;
const TURNS = 40;
const ROUNDS = 3;
const TRANSPORTS = ['node-http', 'undici'];

const sse = (event, data) => `${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(data)}\n\n`;
const bodies = {
  '/v1/messages': () => [
    sse('message_start', { type: 'message_start', message: { usage: { input_tokens: 100, output_tokens: 1 } } }),
    sse('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
    ...Array.from({ length: TOKENS }, (_, i) => sse('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: ` w${i}` } })),
    sse('content_block_stop', { type: 'content_block_stop', index: 0 }),
    sse('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: TOKENS } }),
    sse('message_stop', { type: 'message_stop' }),
  ],
  '/v1/chat/completions': () => [
    ...Array.from({ length: TOKENS }, (_, i) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: ` w${i}` }, finish_reason: null }] })}\n\n`),
    `data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`,
    `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 100, completion_tokens: TOKENS } })}\n\n`,
    'data: [DONE]\n\n',
  ],
  '/api/chat': () => [
    ...Array.from({ length: TOKENS }, (_, i) => `${JSON.stringify({ message: { role: 'assistant', content: ` w${i}` }, done: false })}\n`),
    `${JSON.stringify({ message: { role: 'assistant', content: '' }, done: true, done_reason: 'stop', prompt_eval_count: 100, eval_count: TOKENS })}\n`,
  ],
};

export default async function () {
  const server = createServer(async (req, res) => {
    for await (const _ of req);
    res.writeHead(200, { 'content-type': req.url === '/api/chat' ? 'application/x-ndjson' : 'text/event-stream' });
    for (const frame of bodies[req.url]()) res.write(frame);
    res.end();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}`;
  const env = { ANTHROPIC_API_KEY: 'bench', ANTHROPIC_BASE_URL: url, OPENAI_API_KEY: 'bench', OPENAI_BASE_URL: `${url}/v1`, OLLAMA_HOST: url };
  const specs = {
    anthropic: { id: 'a', backend: 'anthropic', model: 'claude-opus-4-5' },
    openai: { id: 'a', backend: 'openai', model: 'gpt-4o' },
    ollama: { id: 'a', backend: 'ollama', model: 'llama3.2' },
  };
  const options = () => ({
    transcript: [{ turn: 1, speakerId: 'b', speaker: 'B', text: 'hello', kind: 'turn' }],
    self: { id: 'a', name: 'A' },
    participants: [{ id: 'a', name: 'A' }, { id: 'b', name: 'B' }],
    turn: 2,
    signal: new AbortController().signal,
    sampling: {},
    stop: [],
    seed: 1,
  });
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const samples = {};
  try {
    const agents = {};
    for (const transport of TRANSPORTS) {
      const deps = { env, scenarioDir: '.', logger: pino({ level: 'silent' }), fetch: providerFetch(env, transport) };
      for (const [name, raw] of Object.entries(specs)) {
        const agent = await createAgent(AgentSpecSchema.parse(raw), deps);
        for await (const _ of agent.stream(options())); // warm up
        agents[`${transport} ${name}`] = agent;
        samples[`${transport} ${name}`] = { secs: 0, cpuMs: 0, first: [], whole: [] };
      }
    }
    // Rounds alternate the transports, so a burst of load elsewhere on the machine falls on both.
    for (let round = 0; round < ROUNDS; round++) {
      for (const name of Object.keys(specs)) {
        for (const transport of round % 2 === 0 ? TRANSPORTS : [...TRANSPORTS].reverse()) {
          const agent = agents[`${transport} ${name}`];
          const s = samples[`${transport} ${name}`];
          const t0 = performance.now();
          const cpu0 = process.cpuUsage();
          for (let t = 0; t < TURNS; t++) {
            const start = performance.now();
            let gotFirst = false;
            for await (const p of agent.stream(options())) {
              if (p.type === 'text-delta' && !gotFirst) {
                gotFirst = true;
                s.first.push(performance.now() - start);
              }
            }
            s.whole.push(performance.now() - start);
          }
          s.secs += (performance.now() - t0) / 1000;
          const cpu = process.cpuUsage(cpu0);
          s.cpuMs += (cpu.user + cpu.system) / 1000;
        }
      }
    }
  } finally {
    server.close();
  }
  const out = { default: DEFAULT_TRANSPORT };
  for (const transport of TRANSPORTS) {
    out[transport] = {};
    for (const name of Object.keys(specs)) {
      const s = samples[`${transport} ${name}`];
      out[transport][name] = {
        tokensPerSec: Math.round((ROUNDS * TURNS * TOKENS) / s.secs),
        medianFirstDeltaMs: Number(median(s.first).toFixed(2)),
        medianTurnMs: Number(median(s.whole).toFixed(2)),
        // Client and local server together, per turn: less noisy than wall time on a shared machine.
        cpuMsPerTurn: Number((s.cpuMs / (ROUNDS * TURNS)).toFixed(2)),
      };
    }
  }
  // Above 1 for tokensPerSec, below 1 for the times: undici is faster.
  out.undiciOverNodeHttp = {};
  for (const name of Object.keys(specs)) {
    const [a, b] = [out.undici[name], out['node-http'][name]];
    out.undiciOverNodeHttp[name] = {
      tokensPerSec: Number((a.tokensPerSec / b.tokensPerSec).toFixed(3)),
      medianFirstDeltaMs: Number((a.medianFirstDeltaMs / b.medianFirstDeltaMs).toFixed(3)),
      medianTurnMs: Number((a.medianTurnMs / b.medianTurnMs).toFixed(3)),
      cpuMsPerTurn: Number((a.cpuMsPerTurn / b.cpuMsPerTurn).toFixed(3)),
    };
  }
  out.manyShortRequests = {};
  for (const transport of TRANSPORTS) out.manyShortRequests[transport] = await manyShortRequests(transport);
  out.manyShortRequests.undiciOverNodeHttpCpu = Number((out.manyShortRequests.undici.cpuMsPerRequest / out.manyShortRequests['node-http'].cpuMsPerRequest).toFixed(3));
  return { tokensPerTurn: TOKENS, ...out };
}

async function manyShortRequests(transport, clients = 500, each = 10) {
  let connections = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => setTimeout(() => res.end('data: [DONE]\n\n'), 100));
  });
  server.keepAliveTimeout = 60_000;
  server.on('connection', () => connections++);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}/v1/chat/completions`;
  const fetch = providerFetch({}, transport);
  const cpu0 = process.cpuUsage();
  try {
    await Promise.all(
      Array.from({ length: clients }, async () => {
        for (let i = 0; i < each; i++) await (await fetch(url, { method: 'POST', body: '{"model":"m"}', headers: { 'content-type': 'application/json' } })).text();
      }),
    );
  } finally {
    server.closeAllConnections();
    server.close();
  }
  const cpu = process.cpuUsage(cpu0);
  return { requests: clients * each, connections, cpuMsPerRequest: Number(((cpu.user + cpu.system) / 1000 / (clients * each)).toFixed(3)) };
}
