import { describe, expect, it } from 'vitest';
import { createAgent } from '../../src/agents/create-agent.js';
import { AnthropicAgentSchema } from '../../src/agents/spec.js';
import { InputError } from '../../src/errors.js';
import { fakeServer } from './_fake-server.js';
import { anthropicReply, fixtureFrames, truncated, withMalformedFrame } from './_wire.js';
import { ALICE, BOB, collect, errors, everything, finalText, finish, say, streamOptions, testDeps } from './_harness.js';

const KEY = 'sk-ant-test-7f3b9c1d2e4a';

async function setup(specExtra: Record<string, unknown> = {}) {
  const server = await fakeServer();
  const deps = testDeps({ ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: server.url });
  const spec = AnthropicAgentSchema.parse({
    id: 'alice',
    name: 'Alice',
    backend: 'anthropic',
    model: 'claude-opus-4-5-20251101',
    persona: 'You are Alice, talking freely with another instance of yourself.',
    maxRetries: 2,
    timeoutMs: 2000,
    ...specExtra,
  });
  const agent = await createAgent(spec, deps);
  return { server, deps, agent };
}

const conversation = [say(1, ALICE, 'Hello, other me.'), say(2, BOB, 'Hello! What shall we explore?')];

describe('anthropic agent', () => {
  it('streams the text token by token and reports usage and cost from the price table', async () => {
    const { server, agent } = await setup();
    server.queue(anthropicReply(['Con', 'scious', 'ness, ', 'perhaps.'], { usage: { input: 100, output: 4, cacheRead: 1000, cacheWrite: 0 } }));
    const parts = await collect(agent.stream(streamOptions({ self: ALICE, transcript: conversation, turn: 3 })));
    expect(parts.filter((p) => p.type === 'text-delta').map((p) => p.type === 'text-delta' && p.text)).toEqual(['Con', 'scious', 'ness, ', 'perhaps.']);
    const f = finish(parts);
    expect(f).toMatchObject({ reason: 'stop', attempts: 1, usage: { inputTokens: 1100, outputTokens: 4, cacheReadTokens: 1000, cacheWriteTokens: 0 } });
    // opus 4.5: 100 × $5 + 1000 × $0.50 + 4 × $25 per million
    expect(f?.type === 'finish' && f.costUsd).toBeCloseTo((100 * 5 + 1000 * 0.5 + 4 * 25) / 1e6, 12);
  });

  it('sends the persona as system, alternating roles, and cache breakpoints on the shared prefix', async () => {
    const { server, agent } = await setup();
    server.queue(anthropicReply(['ok']));
    await collect(agent.stream(streamOptions({ self: ALICE, transcript: conversation, turn: 3, stop: ['^C^C'] })));
    const req = server.requests[0]!;
    expect(req.path).toBe('/v1/messages');
    expect(req.headers.authorization ?? req.headers['x-api-key']).toContain(KEY);
    expect(req.body).toMatchObject({
      model: 'claude-opus-4-5-20251101',
      stream: true,
      system: [{ type: 'text', text: 'You are Alice, talking freely with another instance of yourself.', cache_control: { type: 'ephemeral' } }],
      stop_sequences: ['^C^C'],
      messages: [
        { role: 'user', content: '[The conversation begins. You speak first.]' },
        { role: 'assistant', content: 'Hello, other me.' },
        { role: 'user', content: [{ type: 'text', text: 'Hello! What shall we explore?', cache_control: { type: 'ephemeral' } }] },
      ],
    });
  });

  it('merges consecutive turns of the others so roles alternate', async () => {
    const { server, agent } = await setup();
    const carol = { id: 'carol', name: 'Carol' };
    server.queue(anthropicReply(['ok']));
    const transcript = [say(1, ALICE, 'One'), say(2, BOB, 'Two'), say(3, carol, 'Three')];
    await collect(agent.stream(streamOptions({ self: ALICE, transcript, participants: [ALICE, BOB, carol], turn: 4 })));
    const body = server.requests[0]!.body as { messages: { role: string; content: unknown }[] };
    expect(body.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(JSON.stringify(body.messages[2]!.content)).toContain('Bob: Two\\n\\nCarol: Three');
  });

  it('replays the documented thinking stream: thinking apart from text, usage with cache counts', async () => {
    const { server, agent } = await setup({ thinking: { budgetTokens: 2048 } });
    server.queue({ kind: 'stream', contentType: 'text/event-stream', frames: fixtureFrames('anthropic', 'messages-thinking.sse') });
    const parts = await collect(agent.stream(streamOptions({ self: ALICE, transcript: conversation, turn: 3, sampling: { temperature: 0.7 } })));
    expect(parts.filter((p) => p.type === 'thinking-delta').map((p) => p.type === 'thinking-delta' && p.text).join('')).toBe('The other instance asked about awareness.');
    expect(finalText(parts)).toBe('What a question — I notice something like curiosity. 🌀');
    expect(finish(parts)).toMatchObject({ usage: { inputTokens: 1812, outputTokens: 42, cacheReadTokens: 300, cacheWriteTokens: 1500 } });
    const body = server.requests[0]!.body as Record<string, unknown>;
    expect(body.thinking).toEqual({ type: 'enabled', budget_tokens: 2048 });
    expect(body.max_tokens).toBeGreaterThan(2048);
    expect(body).not.toHaveProperty('temperature');
  });

  it('asks for adaptive thinking when the scenario says so', async () => {
    const { server, agent } = await setup({ thinking: { adaptive: true }, sampling: { temperature: 0.5, topK: 5 } });
    server.queue(anthropicReply(['ok'], { thinking: ['hmm'] }));
    const parts = await collect(agent.stream(streamOptions({ self: ALICE, transcript: conversation, turn: 3 })));
    expect(parts.filter((p) => p.type === 'thinking-delta')).toHaveLength(1);
    const body = server.requests[0]!.body as Record<string, unknown>;
    expect(body.thinking).toEqual({ type: 'adaptive' });
    expect(body).not.toHaveProperty('temperature');
    expect(body).not.toHaveProperty('top_k');
  });

  it('retries a 429 after the server’s retry-after, recording the failed attempt', async () => {
    const { server, agent } = await setup();
    server.queue(
      { kind: 'status', status: 429, headers: { 'retry-after': '1' }, json: { type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } } },
      anthropicReply(['after ', 'the wait']),
    );
    const t0 = Date.now();
    const parts = await collect(agent.stream(streamOptions({ self: ALICE, transcript: conversation, turn: 3 })));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(errors(parts)).toEqual([{ attempt: 1, willRetry: true, name: 'AgentError', message: expect.stringContaining('HTTP 429') }]);
    expect(finalText(parts)).toBe('after the wait');
    expect(finish(parts)).toMatchObject({ attempts: 2 });
    expect(server.requests).toHaveLength(2);
  });

  it('fails the turn after maxRetries + 1 server errors, the last with willRetry false and no finish', async () => {
    const { server, agent } = await setup({ maxRetries: 2 });
    const fail = { kind: 'status' as const, status: 500, headers: { 'retry-after-ms': '5' }, json: { type: 'error', error: { type: 'api_error', message: 'boom' } } };
    server.queue(fail, fail, fail);
    const parts = await collect(agent.stream(streamOptions({ self: ALICE, transcript: conversation, turn: 3 })));
    expect(errors(parts).map((e) => [e.attempt, e.willRetry])).toEqual([
      [1, true],
      [2, true],
      [3, false],
    ]);
    expect(errors(parts).at(-1)?.message).toContain('500');
    expect(finish(parts)).toBeUndefined();
    expect(parts.at(-1)?.type).toBe('error');
    expect(server.requests).toHaveLength(3);
  });

  it('never passes off a stream cut mid-way as a turn: the attempt fails and the turn is asked again', async () => {
    const { server, agent } = await setup();
    server.queue(truncated(anthropicReply(['Half ', 'a ', 'thought']), 5, 'cut'), anthropicReply(['A whole ', 'thought.']));
    const parts = await collect(agent.stream(streamOptions({ self: ALICE, transcript: conversation, turn: 3 })));
    expect(parts.some((p) => p.type === 'text-delta' && p.text === 'Half ')).toBe(true);
    expect(errors(parts)).toEqual([{ attempt: 1, willRetry: true, name: expect.any(String), message: expect.stringMatching(/cut|terminated|end-of-message/u) }]);
    expect(finalText(parts)).toBe('A whole thought.');
    expect(finish(parts)).toMatchObject({ attempts: 2 });
  });

  it('treats a stream that ends cleanly without message_stop as broken', async () => {
    const { server, agent } = await setup({ maxRetries: 0 });
    server.queue(truncated(anthropicReply(['Only ', 'part']), 6, 'end'));
    const parts = await collect(agent.stream(streamOptions({ self: ALICE, transcript: conversation, turn: 3 })));
    expect(errors(parts)).toEqual([{ attempt: 1, willRetry: false, name: 'IncompleteStreamError', message: expect.stringContaining('end-of-message') }]);
    expect(finish(parts)).toBeUndefined();
  });

  it('fails an attempt on a malformed chunk instead of skipping it', async () => {
    const { server, agent } = await setup();
    server.queue(withMalformedFrame(anthropicReply(['one ', 'two ', 'three']), 4), anthropicReply(['clean']));
    const parts = await collect(agent.stream(streamOptions({ self: ALICE, transcript: conversation, turn: 3 })));
    expect(errors(parts)).toEqual([{ attempt: 1, willRetry: true, name: 'MalformedChunkError', message: expect.stringContaining('malformed') }]);
    expect(finalText(parts)).toBe('clean');
  });

  it('times out a server that never answers, and one that stalls mid-stream, then succeeds', async () => {
    const { server, agent } = await setup({ timeoutMs: 300 });
    server.queue({ kind: 'hang' }, truncated(anthropicReply(['stalled ', 'here']), 5, 'hang'), anthropicReply(['finally']));
    const parts = await collect(agent.stream(streamOptions({ self: ALICE, transcript: conversation, turn: 3 })));
    expect(errors(parts).map((e) => [e.attempt, e.willRetry])).toEqual([
      [1, true],
      [2, true],
    ]);
    expect(errors(parts)[0]!.message).toMatch(/no response within 300 ms/u);
    expect(errors(parts)[1]!.message).toMatch(/stalled/u);
    expect(finalText(parts)).toBe('finally');
    expect(finish(parts)).toMatchObject({ attempts: 3 });
  });

  it('cuts at a stop string the server ignored', async () => {
    const { server, agent } = await setup();
    server.queue(anthropicReply(['Goodbye. ^C', '^C and more text']));
    const parts = await collect(agent.stream(streamOptions({ self: ALICE, transcript: conversation, turn: 3, stop: ['^C^C'] })));
    expect(finalText(parts)).toBe('Goodbye. ');
    expect(finish(parts)).toMatchObject({ reason: 'stop_sequence' });
  });

  it('reports trims of the history as context-trimmed parts', async () => {
    const { server, agent } = await setup({ contextWindow: 3000, sampling: { maxTokens: 500 } });
    server.queue(anthropicReply(['ok']));
    const long = 'lorem ipsum '.repeat(150);
    const transcript = Array.from({ length: 10 }, (_, i) => say(i + 1, i % 2 === 0 ? ALICE : BOB, `${i + 1} ${long}`));
    const parts = await collect(agent.stream(streamOptions({ self: ALICE, transcript, turn: 11 })));
    const trim = parts.find((p) => p.type === 'context-trimmed');
    expect(trim).toMatchObject({ contextWindow: 3000, droppedTurns: expect.arrayContaining([2, 3]) });
    const body = server.requests[0]!.body as { messages: { content: unknown }[] };
    expect(JSON.stringify(body.messages)).toContain('"1 lorem');
    expect(JSON.stringify(body.messages)).not.toContain('"2 lorem');
  });

  it('refuses to start without a key, naming the variable', async () => {
    const spec = AnthropicAgentSchema.parse({ id: 'a', backend: 'anthropic', model: 'claude-sonnet-4-5' });
    await expect(createAgent(spec, testDeps({}))).rejects.toThrow(InputError);
    await expect(createAgent(spec, testDeps({}))).rejects.toThrow(/ANTHROPIC_API_KEY/u);
    const named = AnthropicAgentSchema.parse({ id: 'a', backend: 'anthropic', model: 'claude-sonnet-4-5', apiKeyEnv: 'MY_CLAUDE_KEY' });
    await expect(createAgent(named, testDeps({ ANTHROPIC_API_KEY: KEY }))).rejects.toThrow(/MY_CLAUDE_KEY/u);
  });

  it('never lets the key or the Authorization header into parts or logs, even when the server echoes it', async () => {
    const { server, agent, deps } = await setup({ maxRetries: 1 });
    server.respond((req) => ({
      kind: 'status',
      status: 500,
      headers: { 'retry-after-ms': '1' },
      json: { type: 'error', error: { type: 'api_error', message: `bad auth header ${String(req.headers.authorization)} key ${KEY}` } },
    }));
    const parts = await collect(agent.stream(streamOptions({ self: ALICE, transcript: conversation, turn: 3 })));
    expect(errors(parts)).toHaveLength(2);
    expect(deps.lines.length).toBeGreaterThan(0);
    const all = everything(parts, deps.lines);
    expect(all).toContain('[redacted]');
    expect(all).not.toContain(KEY);
    expect(all).not.toContain('7f3b9c1d2e4a');
  });
});

describe('anthropic agent plumbing', () => {
  it('sends its requests through the injected fetch, and leaves cache breakpoints out when cache is off', async () => {
    const server = await fakeServer();
    const seen: string[] = [];
    const fetch: typeof globalThis.fetch = (input, init) => {
      seen.push(String(input instanceof Request ? input.url : input));
      return globalThis.fetch(input, init);
    };
    const deps = testDeps({ ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: server.url }, { fetch });
    const spec = AnthropicAgentSchema.parse({ id: 'alice', backend: 'anthropic', model: 'claude-opus-4-5', persona: 'p', cache: false });
    const agent = await createAgent(spec, deps);
    server.queue(anthropicReply(['hi']));
    await collect(agent.stream(streamOptions({ self: ALICE, transcript: conversation, turn: 3 })));
    expect(seen).toEqual([`${server.url}/v1/messages`]);
    expect(server.requests[0]!.raw).not.toContain('cache_control');
  });

  it('shares a concurrency limit between agents of one run: one request at a time', async () => {
    const server = await fakeServer();
    const env = { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: server.url };
    const make = (id: string) =>
      createAgent(AnthropicAgentSchema.parse({ id, backend: 'anthropic', model: 'claude-opus-4-5', rateLimit: { concurrency: 1 } }), testDeps({}, { env }));
    const [a, b] = await Promise.all([make('alice'), make('bob')]);
    // The first answer waits for a second request (which must not come) or 300 ms.
    let secondArrived!: () => void;
    const second = new Promise<void>((resolve) => (secondArrived = resolve));
    server.respond((_req, i) => {
      if (i === 1) secondArrived();
      return { ...anthropicReply([`answer ${i}`]), before: i === 0 ? Promise.race([second, new Promise((r) => setTimeout(r, 300))]) : undefined };
    });
    const [pa, pb] = await Promise.all([
      collect(a.stream(streamOptions({ self: ALICE, transcript: conversation, turn: 3 }))),
      collect(b.stream(streamOptions({ self: BOB, transcript: conversation, turn: 3 }))),
    ]);
    expect([finalText(pa), finalText(pb)].sort()).toEqual(['answer 0', 'answer 1']);
    expect(server.maxInFlight()).toBe(1);
  });
});
