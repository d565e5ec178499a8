import { describe, expect, it } from 'vitest';
import { createAgent } from '../../src/agents/create-agent.js';
import { OpenAIAgentSchema } from '../../src/agents/spec.js';
import { fakeServer } from './_fake-server.js';
import { fixtureFrames, openAIChatReply, truncated, withMalformedFrame } from './_wire.js';
import { ALICE, BOB, collect, errors, everything, finalText, finish, say, streamOptions, testDeps } from './_harness.js';

const KEY = 'sk-proj-test-91c0ffee5150';

async function setup(specExtra: Record<string, unknown> = {}, env: Record<string, string> = {}) {
  const server = await fakeServer();
  const deps = testDeps({ OPENAI_API_KEY: KEY, OPENAI_BASE_URL: `${server.url}/v1`, ...env });
  const spec = OpenAIAgentSchema.parse({
    id: 'bob',
    name: 'Bob',
    backend: 'openai',
    model: 'gpt-4o',
    persona: 'You are Bob.',
    maxRetries: 2,
    timeoutMs: 2000,
    ...specExtra,
  });
  return { server, deps, agent: await createAgent(spec, deps) };
}

const conversation = [say(1, ALICE, 'Hello, Bob.')];

describe('openai chat agent', () => {
  it('replays the documented chunk stream with include_usage: text, usage with cached tokens, cost', async () => {
    const { server, agent } = await setup();
    server.queue({ kind: 'stream', contentType: 'text/event-stream', frames: fixtureFrames('openai', 'chat-completions.sse') });
    const parts = await collect(agent.stream(streamOptions({ self: BOB, transcript: conversation, turn: 2 })));
    expect(parts.filter((p) => p.type === 'text-delta').map((p) => p.type === 'text-delta' && p.text)).toEqual(['Hello', ', fellow', ' mind.']);
    const f = finish(parts);
    expect(f).toMatchObject({ reason: 'stop', attempts: 1, usage: { inputTokens: 1200, outputTokens: 5, cacheReadTokens: 1024, reasoningTokens: 0 } });
    // gpt-4o: 176 × $2.50 + 1024 × $1.25 + 5 × $10 per million
    expect(f?.type === 'finish' && f.costUsd).toBeCloseTo((176 * 2.5 + 1024 * 1.25 + 5 * 10) / 1e6, 12);
  });

  it('sends the persona as the first system message, roles from the agent’s side, include_usage, and the key', async () => {
    const { server, agent } = await setup({ sampling: { temperature: 0.9, maxTokens: 300, seed: 7 } });
    server.queue(openAIChatReply(['hi']));
    await collect(agent.stream(streamOptions({ self: BOB, transcript: [...conversation, say(2, BOB, 'Hi Alice.'), say(3, ALICE, 'How are you?')], turn: 4 })));
    const req = server.requests[0]!;
    expect(req.path).toBe('/v1/chat/completions');
    expect(req.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(req.body).toMatchObject({
      model: 'gpt-4o',
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0.9,
      seed: 7,
      messages: [
        { role: 'system', content: 'You are Bob.' },
        { role: 'user', content: 'Hello, Bob.' },
        { role: 'assistant', content: 'Hi Alice.' },
        { role: 'user', content: 'How are you?' },
      ],
    });
    // A compatible server (not api.openai.com) gets max_tokens, which all of them understand.
    expect(req.body).toMatchObject({ max_tokens: 300 });
  });

  it('works against a compatible server without a key', async () => {
    const server = await fakeServer();
    const spec = OpenAIAgentSchema.parse({ id: 'bob', backend: 'openai', model: 'qwen2.5-7b-instruct', baseURL: `${server.url}/v1` });
    const agent = await createAgent(spec, testDeps({}));
    server.queue(openAIChatReply(['local ', 'answer']));
    const parts = await collect(agent.stream(streamOptions({ self: BOB, transcript: conversation, turn: 2 })));
    expect(finalText(parts)).toBe('local answer');
    expect(finish(parts)).toMatchObject({ costUsd: 0 });
  });

  it('requires a key for OpenAI’s own service', async () => {
    const spec = OpenAIAgentSchema.parse({ id: 'bob', backend: 'openai', model: 'gpt-4o' });
    await expect(createAgent(spec, testDeps({}))).rejects.toThrow(/OPENAI_API_KEY/u);
  });

  it('retries a 429 honouring retry-after-ms and records the attempt', async () => {
    const { server, agent } = await setup();
    server.queue({ kind: 'status', status: 429, headers: { 'retry-after-ms': '20' }, json: { error: { message: 'Rate limit reached', type: 'requests' } } }, openAIChatReply(['ok']));
    const parts = await collect(agent.stream(streamOptions({ self: BOB, transcript: conversation, turn: 2 })));
    expect(errors(parts)).toEqual([{ attempt: 1, willRetry: true, name: 'AgentError', message: expect.stringContaining('429') }]);
    expect(finalText(parts)).toBe('ok');
    expect(finish(parts)).toMatchObject({ attempts: 2 });
  });

  it('does not retry a 400: one final error', async () => {
    const { server, agent } = await setup();
    server.queue({ kind: 'status', status: 400, json: { error: { message: 'context_length_exceeded', type: 'invalid_request_error' } } });
    const parts = await collect(agent.stream(streamOptions({ self: BOB, transcript: conversation, turn: 2 })));
    expect(errors(parts)).toEqual([{ attempt: 1, willRetry: false, name: 'AgentError', message: expect.stringContaining('context_length_exceeded') }]);
    expect(finish(parts)).toBeUndefined();
    expect(server.requests).toHaveLength(1);
  });

  it('treats a stream without finish_reason as cut short, whether the connection drops or ends', async () => {
    const { server, agent } = await setup();
    const reply = openAIChatReply(['partial ', 'reply ', 'here']);
    server.queue(truncated(reply, 3, 'cut'), truncated(reply, 3, 'end'), openAIChatReply(['full reply']));
    const parts = await collect(agent.stream(streamOptions({ self: BOB, transcript: conversation, turn: 2 })));
    expect(errors(parts).map((e) => [e.attempt, e.willRetry])).toEqual([
      [1, true],
      [2, true],
    ]);
    expect(errors(parts)[1]!.name).toBe('IncompleteStreamError');
    expect(finalText(parts)).toBe('full reply');
  });

  it('fails on a malformed chunk, and gives up after the budget', async () => {
    const { server, agent } = await setup({ maxRetries: 1 });
    const bad = withMalformedFrame(openAIChatReply(['a', 'b', 'c']), 2);
    server.queue(bad, bad);
    const parts = await collect(agent.stream(streamOptions({ self: BOB, transcript: conversation, turn: 2 })));
    expect(errors(parts).map((e) => [e.attempt, e.willRetry, e.name])).toEqual([
      [1, true, 'MalformedChunkError'],
      [2, false, 'MalformedChunkError'],
    ]);
    expect(finish(parts)).toBeUndefined();
  });

  it('times out a server that hangs and retries', async () => {
    const { server, agent } = await setup({ timeoutMs: 250 });
    server.queue({ kind: 'hang' }, openAIChatReply(['awake']));
    const parts = await collect(agent.stream(streamOptions({ self: BOB, transcript: conversation, turn: 2 })));
    expect(errors(parts)).toEqual([{ attempt: 1, willRetry: true, name: 'StalledStreamError', message: expect.stringMatching(/no response within 250 ms \(firstByteTimeoutMs\)/u) }]);
    expect(finalText(parts)).toBe('awake');
  });

  it('stops streaming promptly when the run is stopped', async () => {
    const { server, agent } = await setup();
    server.queue(truncated(openAIChatReply(['one ', 'two ']), 3, 'hang'));
    const ac = new AbortController();
    const seen: string[] = [];
    const run = (async () => {
      for await (const p of agent.stream(streamOptions({ self: BOB, transcript: conversation, turn: 2, signal: ac.signal }))) {
        if (p.type === 'text-delta') {
          seen.push(p.text);
          ac.abort();
        }
      }
    })();
    await expect(run).rejects.toThrow(/abort/u);
    expect(seen).toEqual(['one ']);
  });

  it('keeps the key out of everything it yields and logs', async () => {
    const { server, agent, deps } = await setup({ maxRetries: 0 });
    server.respond((req) => ({ kind: 'status', status: 401, json: { error: { message: `Incorrect API key provided: ${String(req.headers.authorization)}` } } }));
    const parts = await collect(agent.stream(streamOptions({ self: BOB, transcript: conversation, turn: 2 })));
    expect(errors(parts)).toHaveLength(1);
    const all = everything(parts, deps.lines);
    expect(all).toContain('Incorrect API key provided');
    expect(all).not.toContain(KEY);
  });
});
