import { describe, expect, it, vi } from 'vitest';
import { createAgent } from '../../src/agents/create-agent.js';
import { OllamaAgentSchema } from '../../src/agents/spec.js';
import { fakeServer } from './_fake-server.js';
import { fixtureFrames, ollamaChatReply, truncated, withMalformedFrame } from './_wire.js';
import { ALICE, BOB, collect, errors, finalText, finish, say, streamOptions, testDeps } from './_harness.js';

async function setup(specExtra: Record<string, unknown> = {}) {
  const server = await fakeServer();
  // OLLAMA_HOST the way people set it: host:port, no scheme.
  const deps = testDeps({ OLLAMA_HOST: server.url.replace('http://', '') });
  const spec = OllamaAgentSchema.parse({ id: 'alice', name: 'Alice', backend: 'ollama', model: 'llama3.2', persona: 'You are Alice.', maxRetries: 2, timeoutMs: 2000, ...specExtra });
  return { server, deps, agent: await createAgent(spec, deps) };
}

const conversation = [say(1, BOB, 'Who goes there?')];

describe('ollama chat agent', () => {
  it('replays the documented NDJSON stream: text, usage from the counts, no cost', async () => {
    const { server, agent } = await setup();
    server.queue({ kind: 'stream', contentType: 'application/x-ndjson', frames: fixtureFrames('ollama', 'chat.ndjson') });
    const parts = await collect(agent.stream(streamOptions({ self: ALICE, transcript: conversation, turn: 2 })));
    expect(parts.filter((p) => p.type === 'text-delta').map((p) => p.type === 'text-delta' && p.text)).toEqual(['Greetings', ', traveller', '.']);
    expect(finish(parts)).toMatchObject({ reason: 'stop', usage: { inputTokens: 26, outputTokens: 4 }, costUsd: 0, attempts: 1 });
  });

  it('posts to /api/chat on OLLAMA_HOST with the system prompt first and sampling as options', async () => {
    const { server, agent } = await setup({ sampling: { temperature: 0.5, topK: 40, maxTokens: 200, seed: 3 }, contextWindow: 8192 });
    server.queue(ollamaChatReply(['ok']));
    await collect(agent.stream(streamOptions({ self: ALICE, transcript: conversation, turn: 2, stop: ['^C^C'] })));
    const req = server.requests[0]!;
    expect(req.path).toBe('/api/chat');
    expect(req.body).toMatchObject({
      model: 'llama3.2',
      stream: true,
      messages: [
        { role: 'system', content: 'You are Alice.' },
        { role: 'user', content: 'Who goes there?' },
      ],
      options: { temperature: 0.5, top_k: 40, num_predict: 200, seed: 3, num_ctx: 8192, stop: ['^C^C'] },
    });
    expect(req.headers.authorization).toBeUndefined();
  });

  it('retries a 503 itself (the client has no retries), honouring retry-after', async () => {
    const { server, agent } = await setup();
    server.queue({ kind: 'status', status: 503, headers: { 'retry-after': '0' }, json: { error: 'server busy' } }, ollamaChatReply(['there ', 'you are']));
    const parts = await collect(agent.stream(streamOptions({ self: ALICE, transcript: conversation, turn: 2 })));
    expect(errors(parts)).toEqual([{ attempt: 1, willRetry: true, name: 'AgentError', message: expect.stringContaining('503') }]);
    expect(finalText(parts)).toBe('there you are');
    expect(finish(parts)).toMatchObject({ attempts: 2 });
  });

  it('says what an error object from Ollama says, in a response and inside the stream, never [object Object]', async () => {
    const { server, agent } = await setup({ maxRetries: 0 });
    server.queue({ kind: 'status', status: 404, json: { error: { message: "model 'llama3.2' not found", type: 'not_found' } } });
    const refused = await collect(agent.stream(streamOptions({ self: ALICE, transcript: conversation, turn: 2 })));
    expect(errors(refused)).toEqual([{ attempt: 1, willRetry: false, name: 'AgentError', message: expect.stringContaining("model 'llama3.2' not found") }]);
    expect(errors(refused)[0]!.message).not.toContain('[object Object]');

    const frames = (ollamaChatReply(['half a ']) as { frames: string[] }).frames.slice(0, 1);
    server.queue({ kind: 'stream', contentType: 'application/x-ndjson', frames: [...frames, `${JSON.stringify({ error: { message: 'the model runner stopped', code: 500 } })}\n`] });
    const cut = await collect(agent.stream(streamOptions({ self: ALICE, transcript: conversation, turn: 2 })));
    expect(errors(cut)).toEqual([{ attempt: 1, willRetry: false, name: 'AgentError', message: expect.stringContaining('the model runner stopped') }]);
    expect(errors(cut)[0]!.message).not.toContain('[object Object]');
    expect(finish(cut)).toBeUndefined();

    // A plain string, as Ollama usually sends it, reads as before.
    server.queue({ kind: 'stream', contentType: 'application/x-ndjson', frames: [...frames, `${JSON.stringify({ error: 'out of memory' })}\n`] });
    const plain = await collect(agent.stream(streamOptions({ self: ALICE, transcript: conversation, turn: 2 })));
    expect(errors(plain)[0]!.message).toContain('out of memory');
  });

  it('does not skip a malformed line the way the client would: the attempt fails', async () => {
    const { server, agent } = await setup({ maxRetries: 0 });
    server.queue(withMalformedFrame(ollamaChatReply(['a', 'b', 'c']), 1));
    const parts = await collect(agent.stream(streamOptions({ self: ALICE, transcript: conversation, turn: 2 })));
    expect(errors(parts)).toEqual([{ attempt: 1, willRetry: false, name: 'MalformedChunkError', message: expect.stringContaining('NDJSON') }]);
    expect(finish(parts)).toBeUndefined();
  });

  it('retries a stream cut before done, and one that hangs', async () => {
    const { server, agent } = await setup({ timeoutMs: 300, maxRetries: 3 });
    const reply = ollamaChatReply(['never ', 'finished']);
    server.queue(truncated(reply, 1, 'cut'), truncated(reply, 1, 'hang'), { kind: 'hang' }, ollamaChatReply(['done']));
    const parts = await collect(agent.stream(streamOptions({ self: ALICE, transcript: conversation, turn: 2 })));
    expect(errors(parts).map((e) => [e.attempt, e.willRetry])).toEqual([
      [1, true],
      [2, true],
      [3, true],
    ]);
    expect(errors(parts)[1]!.message).toMatch(/stalled/u);
    expect(errors(parts)[2]!.message).toMatch(/no response within/u);
    expect(finalText(parts)).toBe('done');
    expect(finish(parts)).toMatchObject({ attempts: 4 });
  });

  it('reports a connection refused as a retried then final failure', async () => {
    const server = await fakeServer();
    const deadPort = new URL(server.url).port;
    const spec = OllamaAgentSchema.parse({ id: 'alice', backend: 'ollama', model: 'llama3.2', baseURL: `http://127.0.0.1:1`, maxRetries: 1 });
    const agent = await createAgent(spec, testDeps({ OLLAMA_HOST: `127.0.0.1:${deadPort}` }));
    const parts = await collect(agent.stream(streamOptions({ self: ALICE, transcript: conversation, turn: 2 })));
    // The scenario's baseURL wins over OLLAMA_HOST, and nothing listens there.
    expect(server.requests).toHaveLength(0);
    expect(errors(parts).map((e) => [e.attempt, e.willRetry])).toEqual([
      [1, true],
      [2, false],
    ]);
    expect(errors(parts)[1]!.message).toMatch(/connection/u);
  });

  it('turns a proxy’s HTML error page into the error message without printing it', async () => {
    const { server, agent } = await setup({ maxRetries: 0 });
    const log = vi.spyOn(console, 'log');
    server.queue({ kind: 'status', status: 502, headers: { 'content-type': 'text/html' }, json: '<h1>Bad Gateway</h1>' });
    const parts = await collect(agent.stream(streamOptions({ self: ALICE, transcript: conversation, turn: 2 })));
    expect(errors(parts)).toEqual([{ attempt: 1, willRetry: false, name: 'AgentError', message: expect.stringContaining('Bad Gateway') }]);
    expect(log).not.toHaveBeenCalled();
    log.mockRestore();
  });
});
