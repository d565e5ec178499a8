import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Agent, AgentDeps } from '../../../src/agents/agent.js';
import { createAgent } from '../../../src/agents/create-agent.js';
import { AgentSpecSchema } from '../../../src/agents/spec.js';
import { ModelCallCache } from '../../../src/agents/remote/call-cache.js';
import { tempDir } from '../../helpers/tmp-dir.js';
import { fakeServer, type FakeServer, type Reply } from '../_fake-server.js';
import { ALICE, BOB, collect, finalText, finish, say, streamOptions, testDeps } from '../_harness.js';
import { anthropicReply, ollamaChatReply, ollamaGenerateReply, openAIChatReply, openAICompletionReply, truncated } from '../_wire.js';

const ANTHROPIC_KEY = 'sk-ant-cache-5ec2e7a11ce0';
const OPENAI_KEY = 'sk-proj-cache-0b0e5ec2e7';
const OLLAMA_KEY = 'ollama-cache-key-77a1b2';

/** Every file under `dir`, recursively, with its text. */
function files(dir: string): { path: string; text: string }[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => {
      const path = join(d.parentPath, d.name);
      return { path, text: readFileSync(path, 'utf8') };
    });
}

async function agentFor(spec: Record<string, unknown>, deps: AgentDeps): Promise<Agent> {
  return createAgent(AgentSpecSchema.parse(spec), deps);
}

/** One turn of `agent` as Bob answering Alice. */
async function turnOf(agent: Agent, o: { seed?: number } = {}) {
  return collect(agent.stream(streamOptions({ self: BOB, transcript: [say(1, ALICE, 'Is the sea still there?')], sampling: o.seed !== undefined ? { seed: o.seed } : {} })));
}

interface Backend {
  name: string;
  spec: (url: string) => Record<string, unknown>;
  env: Record<string, string>;
  reply: (chunks: string[]) => Reply;
  key: string;
}

const BACKENDS: Backend[] = [
  {
    name: 'anthropic (SSE with named events)',
    spec: (url) => ({ id: 'bob', backend: 'anthropic', model: 'claude-opus-4-5', baseURL: url, maxRetries: 0 }),
    env: { ANTHROPIC_API_KEY: ANTHROPIC_KEY },
    reply: (c) => anthropicReply(c, { usage: { input: 1000, output: 200 } }),
    key: ANTHROPIC_KEY,
  },
  {
    name: 'openai (SSE data lines)',
    spec: (url) => ({ id: 'bob', backend: 'openai', model: 'gpt-4o', baseURL: `${url}/v1`, maxRetries: 0 }),
    env: { OPENAI_API_KEY: OPENAI_KEY },
    reply: (c) => openAIChatReply(c, { usage: { prompt: 1000, completion: 200 } }),
    key: OPENAI_KEY,
  },
  {
    name: 'ollama (NDJSON)',
    spec: (url) => ({ id: 'bob', backend: 'ollama', model: 'llama-test', baseURL: url, maxRetries: 0 }),
    env: { OLLAMA_API_KEY: OLLAMA_KEY },
    reply: (c) => ollamaChatReply(c),
    key: OLLAMA_KEY,
  },
];

describe('record/replay cache of model calls', () => {
  for (const b of BACKENDS) {
    it(`${b.name}: a repeated identical request is answered from the cache through the real SDK, sending nothing`, async () => {
      const server = await fakeServer();
      server.respond(() => b.reply(['The sea ', 'is still ', 'there. 🌊']));
      const dir = tempDir();
      const cache = await ModelCallCache.open(join(dir, 'cache'));
      const first = await turnOf(await agentFor(b.spec(server.url), testDeps(b.env, { cache })));
      expect(server.requests).toHaveLength(1);
      const second = await turnOf(await agentFor(b.spec(server.url), testDeps(b.env, { cache })));
      expect(server.requests).toHaveLength(1);
      expect(finalText(second)).toBe('The sea is still there. 🌊');
      expect(finalText(second)).toBe(finalText(first));
      const f1 = finish(first)!;
      const f2 = finish(second)!;
      expect(f1.type === 'finish' && f1.replay).toBeFalsy();
      expect(f2).toMatchObject({ type: 'finish', replay: true, costUsd: 0, attempts: 1 });
      // The recorded usage is kept for reference; only the cost is not paid again.
      expect(f2.type === 'finish' && f2.usage).toEqual(f1.type === 'finish' && f1.usage);
      if (b.name.startsWith('ollama')) expect(f1.type === 'finish' && f1.costUsd).toBe(0);
      else expect(f1.type === 'finish' && f1.costUsd).toBeGreaterThan(0);
      // No key, no auth header, in what the cache keeps.
      const stored = files(cache.dir);
      expect(stored).toHaveLength(1);
      for (const f of stored) {
        expect(f.text).not.toContain(b.key);
        expect(f.text.toLowerCase()).not.toContain('authorization');
        expect(f.text.toLowerCase()).not.toContain('x-api-key');
      }
    });
  }

  it('a response cut mid-stream is not kept: the retry is recorded, and replays whole', async () => {
    const server = await fakeServer();
    const whole = anthropicReply(['one ', 'two ', 'three'], { usage: { input: 10, output: 3 } });
    server.queue(truncated(whole, 4, 'cut'), whole);
    const cache = await ModelCallCache.open(join(tempDir(), 'cache'));
    const spec = { id: 'bob', backend: 'anthropic', model: 'claude-test', baseURL: server.url, maxRetries: 1 };
    const first = await turnOf(await agentFor(spec, testDeps({ ANTHROPIC_API_KEY: ANTHROPIC_KEY }, { cache })));
    expect(finalText(first)).toBe('one two three');
    expect(server.requests).toHaveLength(2);
    const again = await turnOf(await agentFor(spec, testDeps({ ANTHROPIC_API_KEY: ANTHROPIC_KEY }, { cache })));
    expect(server.requests).toHaveLength(2);
    expect(finalText(again)).toBe('one two three');
  });

  it('a call that fails mid-stream leaves no entry, so the next identical request goes to the provider', async () => {
    const server = await fakeServer();
    const whole = openAIChatReply(['one ', 'two ', 'three']);
    server.queue(truncated(whole, 3, 'cut'), whole);
    const cache = await ModelCallCache.open(join(tempDir(), 'cache'));
    const spec = (url: string) => ({ id: 'bob', backend: 'openai', model: 'gpt-test', baseURL: `${url}/v1`, maxRetries: 0 });
    const failed = await turnOf(await agentFor(spec(server.url), testDeps({}, { cache })));
    expect(finish(failed)).toBeUndefined();
    expect(files(cache.dir)).toEqual([]);
    const next = await turnOf(await agentFor(spec(server.url), testDeps({}, { cache })));
    expect(server.requests).toHaveLength(2);
    expect(finalText(next)).toBe('one two three');
    expect(finish(next)).not.toHaveProperty('replay');
  });

  it('a corrupt entry is reported and treated as a miss, then recorded anew', async () => {
    const server = await fakeServer();
    server.respond(() => ollamaChatReply(['calm ', 'water']));
    const warnings: string[] = [];
    const cache = await ModelCallCache.open(join(tempDir(), 'cache'), { onWarning: (m) => warnings.push(m) });
    const spec = { id: 'bob', backend: 'ollama', model: 'llama-test', baseURL: server.url, maxRetries: 0 };
    await turnOf(await agentFor(spec, testDeps({}, { cache })));
    const [entry] = files(cache.dir);
    for (const damage of [(t: string) => t.slice(0, t.length / 2), (t: string) => t.replace('calm ', 'wild ')]) {
      writeFileSync(entry!.path, damage(entry!.text));
      const parts = await turnOf(await agentFor(spec, testDeps({}, { cache })));
      expect(finalText(parts)).toBe('calm water');
      expect(finish(parts)).not.toHaveProperty('replay');
    }
    expect(server.requests).toHaveLength(3);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/cache entry .*\.json is corrupt \(not JSON\); asking the provider again/u);
    expect(warnings[1]).toMatch(/is corrupt \(its body does not match its checksum\)/u);
    // Recorded anew: the next turn is a replay again.
    const replayed = await turnOf(await agentFor(spec, testDeps({}, { cache })));
    expect(server.requests).toHaveLength(3);
    expect(finish(replayed)).toMatchObject({ replay: true });
  });

  it('a seed in the request is part of the key: another seed is another request; the key holds no credentials', async () => {
    const server = await fakeServer();
    server.respond((_req, i) => openAIChatReply([`answer ${i}`]));
    const cache = await ModelCallCache.open(join(tempDir(), 'cache'));
    const spec = (key: string) => ({ id: 'bob', backend: 'openai', model: 'gpt-test', baseURL: `http://user:${key}@${server.url.slice('http://'.length)}/v1`, maxRetries: 0 });
    const a = await turnOf(await agentFor(spec('pw-one-123456'), testDeps({ OPENAI_API_KEY: 'sk-one-aaaaaaaaaa' }, { cache })), { seed: 1 });
    const b = await turnOf(await agentFor(spec('pw-one-123456'), testDeps({ OPENAI_API_KEY: 'sk-one-aaaaaaaaaa' }, { cache })), { seed: 2 });
    expect(server.requests).toHaveLength(2);
    expect(finalText(a)).not.toBe(finalText(b));
    // Another key and password for the same request: still a hit (neither is part of the key).
    const c = await turnOf(await agentFor(spec('pw-two-654321'), testDeps({ OPENAI_API_KEY: 'sk-two-bbbbbbbbbb' }, { cache })), { seed: 1 });
    expect(server.requests).toHaveLength(2);
    expect(finalText(c)).toBe(finalText(a));
    const stored = files(cache.dir).map((f) => f.text).join('\n');
    expect(stored).not.toMatch(/sk-one|pw-one|sk-two|pw-two/u);
  });

  it('simulators: a continuation cut at a stop string is kept and replays to the same turn', async () => {
    const server = await fakeServer();
    // The server ignores stop strings and writes the next speaker's line too.
    server.respond((req) => (req.path === '/v1/completions' ? openAICompletionReply([' Low tide', ' today.\nAlice:', ' and more']) : ollamaGenerateReply([' Low tide', ' today.\nAlice:', ' and more'])));
    const cache = await ModelCallCache.open(join(tempDir(), 'cache'));
    for (const spec of [
      { id: 'bob', backend: 'openai-completions', model: 'base', baseURL: `${server.url}/v1`, maxRetries: 0 },
      { id: 'bob', backend: 'ollama-generate', model: 'base', baseURL: server.url, maxRetries: 0 },
    ]) {
      const before = server.requests.length;
      const first = await turnOf(await agentFor(spec, testDeps({}, { cache })));
      const second = await turnOf(await agentFor(spec, testDeps({}, { cache })));
      expect(server.requests.length - before).toBe(1);
      expect(finalText(first)).toBe('Low tide today.');
      expect(finalText(second)).toBe('Low tide today.');
      expect(finish(second)).toMatchObject({ replay: true, costUsd: 0 });
    }
  });

  it('identical requests at the same moment both complete and leave one whole entry', async () => {
    const server: FakeServer = await fakeServer();
    server.respond(() => anthropicReply(['same ', 'answer']));
    const cache = await ModelCallCache.open(join(tempDir(), 'cache'));
    const spec = { id: 'bob', backend: 'anthropic', model: 'claude-test', baseURL: server.url, maxRetries: 0 };
    const env = { ANTHROPIC_API_KEY: ANTHROPIC_KEY };
    const agents = await Promise.all([1, 2, 3].map(() => agentFor(spec, testDeps(env, { cache }))));
    const results = await Promise.all(agents.map((a) => turnOf(a)));
    for (const r of results) expect(finalText(r)).toBe('same answer');
    const stored = files(cache.dir);
    expect(stored).toHaveLength(1);
    expect(JSON.parse(stored[0]!.text)).toMatchObject({ v: 1, response: { status: 200 } });
    const sent = server.requests.length;
    expect(finalText(await turnOf(await agentFor(spec, testDeps(env, { cache }))))).toBe('same answer');
    expect(server.requests).toHaveLength(sent);
  });

  it('a folder that cannot be written is refused in one line', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'file'), 'x');
    await expect(ModelCallCache.open(join(dir, 'file', 'cache'), { label: '--cache' })).rejects.toThrow(/^--cache .*file\/cache: cannot write there \(ENOTDIR\)$/u);
  });
});
