import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createAgent } from '../../src/agents/create-agent.js';
import { AnthropicAgentSchema, FIRST_BYTE_TIMEOUT_MS, OllamaAgentSchema, OpenAIAgentSchema, firstByteTimeoutMs } from '../../src/agents/spec.js';
import { startRun } from '../../src/arena/run.js';
import { ScenarioSchema } from '../../src/arena/scenario.js';
import { transcriptPrinter } from '../../src/cli/_transcript-printer.js';
import { readRunLog } from '../../src/runlog/reader.js';
import type { ArenaEvent } from '../../src/runlog/events.js';
import { tempDir } from '../helpers/tmp-dir.js';
import { silentServer } from './_silent-server.js';
import { ALICE, BOB, collect, errors, finish, say, streamOptions, testDeps } from './_harness.js';

const servers: { close: () => Promise<void> }[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});
async function hangingProvider() {
  const s = await silentServer();
  servers.push(s);
  return s;
}

const conversation = [say(1, ALICE, 'Hello?')];

describe('the wait for a response to begin (firstByteTimeoutMs)', () => {
  it('defaults to 30 s for hosted APIs and 90 s for Ollama, never past timeoutMs, and a scenario can set it', () => {
    const base = { id: 'a', name: 'A', persona: 'p', model: 'm' };
    expect(firstByteTimeoutMs(OpenAIAgentSchema.parse({ ...base, backend: 'openai' }))).toBe(FIRST_BYTE_TIMEOUT_MS.hosted);
    expect(FIRST_BYTE_TIMEOUT_MS.hosted).toBe(30_000);
    expect(firstByteTimeoutMs(AnthropicAgentSchema.parse({ ...base, backend: 'anthropic' }))).toBe(30_000);
    expect(firstByteTimeoutMs(OllamaAgentSchema.parse({ ...base, backend: 'ollama' }))).toBe(90_000);
    expect(firstByteTimeoutMs(OpenAIAgentSchema.parse({ ...base, backend: 'openai', timeoutMs: 5_000 }))).toBe(5_000);
    expect(firstByteTimeoutMs(OpenAIAgentSchema.parse({ ...base, backend: 'openai', firstByteTimeoutMs: 45_000 }))).toBe(45_000);
    expect(() => OpenAIAgentSchema.parse({ ...base, backend: 'openai', firstByteTimeoutMs: 0 })).toThrow();
  });

  // Each backend through the SDK client it really uses, against a server that never says a word.
  const backends = [
    { backend: 'openai', schema: OpenAIAgentSchema, env: (url: string) => ({ OPENAI_API_KEY: 'sk-test-1234567890', OPENAI_BASE_URL: `${url}/v1` }) },
    { backend: 'anthropic', schema: AnthropicAgentSchema, env: (url: string) => ({ ANTHROPIC_API_KEY: 'sk-ant-test-1234567890', ANTHROPIC_BASE_URL: url }) },
    { backend: 'ollama', schema: OllamaAgentSchema, env: (url: string) => ({ OLLAMA_HOST: url }) },
  ] as const;
  for (const b of backends) {
    it(`${b.backend}: each attempt fails after firstByteTimeoutMs, not after timeoutMs, and the turn fails when attempts run out`, async () => {
      const server = await hangingProvider();
      const spec = b.schema.parse({ id: 'bob', name: 'Bob', backend: b.backend, model: 'm', persona: 'You are Bob.', maxRetries: 1, timeoutMs: 60_000, firstByteTimeoutMs: 400 });
      const agent = await createAgent(spec, testDeps(b.env(server.url)));
      const t0 = Date.now();
      const parts = await collect(agent.stream(streamOptions({ self: BOB, transcript: conversation, turn: 2 })));
      const took = Date.now() - t0;
      expect(errors(parts).map((e) => [e.attempt, e.willRetry])).toEqual([
        [1, true],
        [2, false],
      ]);
      // The last attempt's error too: an SDK must not turn it into its own bare "Request timed out."
      for (const e of errors(parts)) expect(e.message).toMatch(/no response within 400 ms \(firstByteTimeoutMs\)/u);
      expect(finish(parts)).toBeUndefined();
      expect(server.connections()).toBe(2);
      // Two 0.4 s waits and a retry pause; timeoutMs (60 s) plays no part.
      expect(took).toBeLessThan(10_000);
    });
  }
});

describe('a turn waiting on a silent provider', () => {
  it('is shown live with its elapsed time and attempt (terminal and event feed), and the log stays free of it', async () => {
    const server = await hangingProvider();
    const dir = tempDir();
    const scenario = ScenarioSchema.parse({
      name: 'silent-provider',
      seed: 1,
      agents: [
        { id: 'ada', name: 'Ada', persona: 'p', backend: 'scripted', opening: 'Hello?', generator: { kind: 'echo' } },
        { id: 'bob', name: 'Bob', persona: 'p', backend: 'openai', model: 'gpt-4o', baseURL: `${server.url}/v1`, maxRetries: 1, firstByteTimeoutMs: 1_600 },
      ],
      limits: { maxTurns: 2 },
    });
    const terminal = new PassThrough();
    let shown = '';
    terminal.on('data', (d: Buffer) => (shown += d.toString()));
    const handle = await startRun({
      scenario,
      scenarioDir: dir,
      runsDir: join(dir, 'runs'),
      env: { OPENAI_API_KEY: 'sk-test-1234567890' },
      observers: [transcriptPrinter(terminal, { colour: false, live: true, names: new Map([['ada', 'Ada'], ['bob', 'Bob']]) })],
    });
    const live: ArenaEvent[] = [];
    handle.subscribe((e) => live.push(e));
    const result = await handle.done;
    expect(result).toMatchObject({ status: 'failed', stopReason: 'error', turns: 1 });

    const waiting = live.flatMap((e) => (e.type === 'turn.waiting' ? [e] : []));
    expect(waiting.length).toBeGreaterThanOrEqual(2);
    expect(new Set(waiting.map((w) => w.turn))).toEqual(new Set([2]));
    expect(waiting.map((w) => w.agentId).every((id) => id === 'bob')).toBe(true);
    // Both attempts are seen waiting; time only goes forward.
    expect(waiting.some((w) => w.attempt === 1 && w.attemptElapsedMs >= 900)).toBe(true);
    expect(waiting.some((w) => w.attempt === 2)).toBe(true);
    for (let i = 1; i < waiting.length; i++) expect(waiting[i]!.elapsedMs).toBeGreaterThan(waiting[i - 1]!.elapsedMs);
    const second = waiting.find((w) => w.attempt === 2)!;
    expect(second.elapsedMs).toBeGreaterThan(second.attemptElapsedMs);

    expect(shown).toMatch(/… waiting for Bob: no answer after 1 s on attempt 1/u);
    expect(shown).toMatch(/attempt 1 failed: StalledStreamError: .*no response within 1600 ms/u);
    expect(shown).toMatch(/on attempt 2, \d+ s since the turn began/u);
    expect(shown).toMatch(/attempt 2 failed: StalledStreamError: .*no response within 1600 ms/u);

    const { events } = await readRunLog(join(result.runDir, 'events.jsonl'));
    expect(events.filter((e) => e.type === 'turn.waiting')).toEqual([]);
    expect(events.filter((e) => e.type === 'turn.failed').map((e) => e.type === 'turn.failed' && [e.attempt, e.willRetry])).toEqual([
      [1, true],
      [2, false],
    ]);
  }, 20_000);
});

describe('a scenario-wide wait for the first byte', () => {
  it('applies to every model agent without its own, and an agent’s own setting wins', async () => {
    const server = await hangingProvider();
    const dir = tempDir();
    const agent = (id: string, extra: Record<string, unknown> = {}) => ({ id, name: id, persona: 'p', backend: 'openai', model: 'gpt-4o', baseURL: `${server.url}/v1`, maxRetries: 0, ...extra });
    const failure = async (agents: Record<string, unknown>[]) => {
      const scenario = ScenarioSchema.parse({ name: 'silent', seed: 1, firstByteTimeoutMs: 300, agents, limits: { maxTurns: 1 } });
      const handle = await startRun({ scenario, scenarioDir: dir, runsDir: join(dir, 'runs'), env: { OPENAI_API_KEY: 'sk-test-1234567890' } });
      const result = await handle.done;
      const { events } = await readRunLog(join(result.runDir, 'events.jsonl'));
      return events.flatMap((e) => (e.type === 'turn.failed' ? [e.error.message] : []));
    };
    expect(await failure([agent('a'), agent('b')])).toEqual([expect.stringMatching(/no response within 300 ms/u)]);
    expect(await failure([agent('a', { firstByteTimeoutMs: 200 }), agent('b')])).toEqual([expect.stringMatching(/no response within 200 ms/u)]);
  });
});

