import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createAgent } from '../../../src/agents/create-agent.js';
import { LlamaCppAgentSchema, OllamaGenerateAgentSchema, OpenAICompletionsAgentSchema } from '../../../src/agents/spec.js';
import { InputError } from '../../../src/errors.js';
import { importNodeLlamaCpp } from '../../../src/agents/simulator/llama-cpp.js';
import { tempDir } from '../../helpers/tmp-dir.js';
import { fakeServer } from '../_fake-server.js';
import { fixtureFrames, ollamaGenerateReply, openAICompletionReply, truncated } from '../_wire.js';
import { ALICE, BOB, collect, errors, finalText, finish, say, streamOptions, testDeps } from '../_harness.js';

const transcript = [say(1, ALICE, 'The lamp went out.'), say(2, BOB, 'Then we wait for dawn.')];

async function completionsAgent(extra: Record<string, unknown> = {}) {
  const server = await fakeServer();
  const spec = OpenAICompletionsAgentSchema.parse({
    id: 'alice',
    name: 'Alice',
    backend: 'openai-completions',
    model: 'Mistral-Nemo-Base-2407',
    baseURL: `${server.url}/v1`,
    persona: 'Alice keeps the lighthouse.',
    maxRetries: 1,
    timeoutMs: 2000,
    ...extra,
  });
  const deps = testDeps({});
  return { server, deps, agent: await createAgent(spec, deps) };
}

describe('openai-completions simulator', () => {
  it('sends the document and the other speakers’ tags as stops to /v1/completions', async () => {
    const { server, agent } = await completionsAgent({ sampling: { temperature: 1, seed: 11 } });
    server.queue({ kind: 'stream', contentType: 'text/event-stream', frames: fixtureFrames('openai', 'completions.sse') });
    const parts = await collect(agent.stream(streamOptions({ self: ALICE, transcript, turn: 3 })));
    expect(finalText(parts)).toBe('The lantern flickers.');
    expect(finish(parts)).toMatchObject({ reason: 'stop', usage: { inputTokens: 60, outputTokens: 4 } });
    const req = server.requests[0]!;
    expect(req.path).toBe('/v1/completions');
    expect(req.body).toMatchObject({
      model: 'Mistral-Nemo-Base-2407',
      prompt: 'A conversation between Alice, Bob.\n(Alice: Alice keeps the lighthouse.)\n\nAlice: The lamp went out.\nBob: Then we wait for dawn.\nAlice:',
      stream: true,
      stop: ['\nAlice:', '\nBob:'],
      seed: 11,
      max_tokens: 256,
    });
  });

  it('keeps only its own turn when the server ignores stops and writes the other speaker’s lines', async () => {
    const { server, agent } = await completionsAgent();
    server.queue(openAICompletionReply([' We', ' could light', ' a candle.\nB', 'ob: Good idea.\nAlice: I', ' will fetch one.\nBob: Hurry.']));
    const parts = await collect(agent.stream(streamOptions({ self: ALICE, transcript, turn: 3 })));
    expect(finalText(parts)).toBe('We could light a candle.');
    // Nothing past its own turn was ever shown, not even a piece of the next tag.
    const shown = parts.flatMap((p) => (p.type === 'text-delta' ? [p.text] : [])).join('');
    expect(shown).toBe('We could light a candle.');
    expect(finish(parts)).toMatchObject({ reason: 'stop_sequence' });
  });

  it('asks again when the base model’s turn is empty, with a different seed, up to emptyRetries', async () => {
    const { server, agent } = await completionsAgent({ emptyRetries: 2, sampling: { seed: 5 } });
    server.queue(openAICompletionReply(['\n', 'Bob: me again']), openAICompletionReply(['  \n']), openAICompletionReply([' Finally', ' words.']));
    const parts = await collect(agent.stream(streamOptions({ self: ALICE, transcript, turn: 3 })));
    expect(finalText(parts)).toBe('Finally words.');
    expect(errors(parts)).toEqual([]);
    expect(server.requests.map((r) => (r.body as { seed: number }).seed)).toEqual([5, 6, 7]);
    expect(finish(parts)).toMatchObject({ attempts: 3 });
  });

  it('records an empty turn as empty once the retries are spent', async () => {
    const { server, agent } = await completionsAgent({ emptyRetries: 1 });
    server.queue(openAICompletionReply(['\nBob: nothing from me']), openAICompletionReply(['\nBob: still nothing']));
    const parts = await collect(agent.stream(streamOptions({ self: ALICE, transcript, turn: 3 })));
    expect(finalText(parts)).toBe('');
    expect(finish(parts)).toMatchObject({ reason: 'stop_sequence' });
    expect(server.requests).toHaveLength(2);
  });

  it('retries a cut stream instead of keeping half a turn', async () => {
    const { server, agent } = await completionsAgent();
    server.queue(truncated(openAICompletionReply([' Half', ' a line']), 1, 'cut'), openAICompletionReply([' A full line.']));
    const parts = await collect(agent.stream(streamOptions({ self: ALICE, transcript, turn: 3 })));
    expect(errors(parts).map((e) => e.willRetry)).toEqual([true]);
    expect(finalText(parts)).toBe('A full line.');
  });

  it('in narrator mode writes the turn of whoever is asked for, with the persona as the premise', async () => {
    const { server, agent } = await completionsAgent({ narrator: true, template: 'story', persona: 'A storm night at the lighthouse.' });
    server.queue(openAICompletionReply([' Dawn is hours away.\n\nAlice: Then', ' talk to me.']));
    const parts = await collect(agent.stream(streamOptions({ self: BOB, transcript, turn: 3 })));
    expect(finalText(parts)).toBe('Dawn is hours away.');
    expect((server.requests[0]!.body as { prompt: string }).prompt).toBe(
      'A storm night at the lighthouse.\n\nAlice: The lamp went out.\n\nBob: Then we wait for dawn.\n\nBob:',
    );
  });
});

describe('ollama-generate simulator', () => {
  it('posts the document raw to /api/generate and streams its NDJSON', async () => {
    const server = await fakeServer();
    const spec = OllamaGenerateAgentSchema.parse({ id: 'bob', name: 'Bob', backend: 'ollama-generate', model: 'llama3.2:1b-text', template: 'screenplay', timeoutMs: 2000 });
    const agent = await createAgent(spec, testDeps({ OLLAMA_HOST: server.url }));
    server.queue({ kind: 'stream', contentType: 'application/x-ndjson', frames: fixtureFrames('ollama', 'generate.ndjson') });
    const parts = await collect(agent.stream(streamOptions({ self: BOB, transcript: [say(1, ALICE, 'Listen.')], turn: 2 })));
    expect(finalText(parts)).toBe('The rain kept falling.');
    expect(finish(parts)).toMatchObject({ usage: { inputTokens: 61, outputTokens: 4 }, costUsd: 0 });
    const req = server.requests[0]!;
    expect(req.path).toBe('/api/generate');
    expect(req.body).toMatchObject({
      model: 'llama3.2:1b-text',
      raw: true,
      stream: true,
      prompt: 'CHARACTERS\nALICE\nBOB\n\nFADE IN:\n\nALICE\nListen.\n\nBOB\n',
      options: { num_predict: 256, stop: ['\nALICE\n', '\nBOB\n'] },
    });
  });

  it('keeps only its own turn from a model that writes the whole scene', async () => {
    const server = await fakeServer();
    const spec = OllamaGenerateAgentSchema.parse({ id: 'bob', name: 'Bob', backend: 'ollama-generate', model: 'base', template: 'irc' });
    const agent = await createAgent(spec, testDeps({ OLLAMA_HOST: server.url }));
    server.queue(ollamaGenerateReply([' brb', '\n<Al', 'ice> ok\n<Bob> back']));
    const parts = await collect(agent.stream(streamOptions({ self: BOB, transcript: [say(1, ALICE, 'hi')], turn: 2 })));
    expect(finalText(parts)).toBe('brb');
  });
});

describe('llama-cpp simulator', () => {
  it('says how to install node-llama-cpp when it is missing', async () => {
    // The package is installed here (an optional dependency), so ask for one that is not.
    await expect(importNodeLlamaCpp('node-llama-cpp-not-installed')).rejects.toThrow(InputError);
    await expect(importNodeLlamaCpp('node-llama-cpp-not-installed')).rejects.toThrow(/npm i node-llama-cpp/u);
  });

  it('refuses a missing file and a file that is not a GGUF model before any turn, in one line', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'notes.gguf'), 'just some text, not weights');
    const agentFor = (modelPath: string) => createAgent(LlamaCppAgentSchema.parse({ id: 'base', backend: 'llama-cpp', modelPath }), testDeps({}, { scenarioDir: dir }));
    await expect(agentFor('missing.gguf')).rejects.toThrow(InputError);
    await expect(agentFor('missing.gguf')).rejects.toThrow(`agent 'base' (llama-cpp): no GGUF file at ${join(dir, 'missing.gguf')}`);
    await expect(agentFor('notes.gguf')).rejects.toThrow(`agent 'base' (llama-cpp): ${join(dir, 'notes.gguf')} is not a GGUF file (it does not begin with "GGUF")`);
    await expect(agentFor('.')).rejects.toThrow(/is a folder, not a GGUF file/u);
  });
});
