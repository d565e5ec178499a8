import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScenario, type StartRunOptions } from '../../src/arena/run.js';
import { loadScenario } from '../../src/arena/load-scenario.js';
import { readRunLog } from '../../src/runlog/reader.js';
import type { ArenaEvent } from '../../src/runlog/events.js';
import { tempDir } from '../helpers/tmp-dir.js';
import { fakeServer, type ReceivedRequest } from './_fake-server.js';
import { anthropicReply, ollamaChatReply, ollamaGenerateReply, openAIChatReply, openAICompletionReply } from './_wire.js';
import { captureLogger, instantSleep } from './_harness.js';

const KEY = 'sk-ant-prefill-0c0ffee1';

async function run(yaml: string, env: Record<string, string>, extra: Partial<StartRunOptions> = {}) {
  const dir = tempDir();
  const file = join(dir, 'scenario.yaml');
  writeFileSync(file, yaml);
  const { scenario } = await loadScenario(file);
  const result = await runScenario({ scenario, scenarioDir: dir, scenarioFile: file, runsDir: join(dir, 'runs'), env, logger: captureLogger().logger, sleep: instantSleep, ...extra });
  const log = await readRunLog(join(result.runDir, 'events.jsonl'));
  expect(log.problems).toEqual([]);
  return { result, turns: completed(log.events) };
}

const completed = (events: readonly ArenaEvent[]) => events.flatMap((e) => (e.type === 'turn.completed' ? [e] : []));
const messagesOf = (r: ReceivedRequest) => (r.body as { messages: { role: string; content: unknown }[] }).messages;
const bodyOf = (r: ReceivedRequest) => r.body as Record<string, unknown>;

const SCRIPTED_ALICE = `  - { id: alice, name: Alice, backend: scripted, generator: { kind: script, lines: ["Where does the path go?", "And then?"] } }`;

describe('prefill: a turn that starts from given text', () => {
  it('anthropic: a final assistant message without its trailing blank; the log holds prefill + continuation', async () => {
    const server = await fakeServer();
    // The model continues after "I think" with its own leading blank.
    server.respond(() => anthropicReply([' it goes', ' to the sea.']));
    const { turns } = await run(
      `name: p
agents:
${SCRIPTED_ALICE}
  - { id: claude, name: Claude, backend: anthropic, model: claude-test, prefill: "I think " }
limits: { maxTurns: 4 }
`,
      { ANTHROPIC_BASE_URL: server.url, ANTHROPIC_API_KEY: KEY },
    );
    const claude = turns.filter((t) => t.agentId === 'claude');
    expect(claude.map((t) => t.text)).toEqual(['I think it goes to the sea.', 'I think it goes to the sea.']);
    expect(claude.every((t) => t.prefill === 'I think ')).toBe(true);
    expect(turns.filter((t) => t.agentId === 'alice').every((t) => t.prefill === undefined)).toBe(true);
    const messages = messagesOf(server.requests[0]!);
    expect(messages.at(-1)).toEqual({ role: 'assistant', content: 'I think' });
    expect(messages.at(-2)!.role).toBe('user');
  });

  it('openai-compatible: a final assistant message, with continue_final_message for vLLM; byte-exact log', async () => {
    const server = await fakeServer();
    server.respond(() => openAIChatReply([' the sea', ', surely.']));
    const { turns } = await run(
      `name: p
agents:
${SCRIPTED_ALICE}
  - { id: gpt, name: GPT, backend: openai, model: gpt-test, baseURL: "${server.url}/v1" }
limits: { maxTurns: 2 }
`,
      {},
      { firstTurnPrefill: { agentId: 'gpt', text: 'To' } },
    );
    expect(turns[1]).toMatchObject({ agentId: 'gpt', text: 'To the sea, surely.', prefill: 'To' });
    const body = bodyOf(server.requests[0]!);
    expect(messagesOf(server.requests[0]!).at(-1)).toEqual({ role: 'assistant', content: 'To' });
    expect(body).toMatchObject({ continue_final_message: true, add_generation_prompt: false });
  });

  it('ollama: a final assistant message; a one-off prefill applies to one turn only', async () => {
    const server = await fakeServer();
    server.respond(() => ollamaChatReply([' continues', ' here']));
    const { turns } = await run(
      `name: p
agents:
${SCRIPTED_ALICE}
  - { id: llama, name: Llama, backend: ollama, model: llama-test, baseURL: "${server.url}" }
limits: { maxTurns: 4 }
`,
      {},
      { firstTurnPrefill: { agentId: 'llama', text: 'The path' } },
    );
    const llama = turns.filter((t) => t.agentId === 'llama');
    expect(llama.map((t) => [t.text, t.prefill])).toEqual([
      ['The path continues here', 'The path'],
      [' continues here', undefined],
    ]);
    expect(messagesOf(server.requests[0]!).at(-1)).toEqual({ role: 'assistant', content: 'The path' });
    expect(messagesOf(server.requests[1]!).at(-1)!.role).toBe('user');
  });

  it('simulators: the prefill follows the speaker tag in the document, and the continuation keeps its leading blank', async () => {
    const server = await fakeServer();
    server.respond((req) =>
      req.path === '/v1/completions' ? openAICompletionReply([' softly', ' today.\nAlice: no']) : ollamaGenerateReply([' softly', ' today.\nAlice: no']),
    );
    for (const backend of ['openai-completions', 'ollama-generate']) {
      const before = server.requests.length;
      const url = backend === 'openai-completions' ? `${server.url}/v1` : server.url;
      const { turns } = await run(
        `name: p
agents:
${SCRIPTED_ALICE}
  - { id: bob, name: Bob, backend: ${backend}, model: base, baseURL: "${url}", prefill: "It rains" }
limits: { maxTurns: 2 }
`,
        {},
      );
      expect(turns[1]).toMatchObject({ agentId: 'bob', text: 'It rains softly today.', prefill: 'It rains' });
      const prompt = bodyOf(server.requests[before]!).prompt as string;
      expect(prompt.endsWith('\nAlice: Where does the path go?\nBob: It rains')).toBe(true);
    }
  });

  it('scripted: the prefill is the start of the turn, the generator writes the rest', async () => {
    const { turns } = await run(
      `name: p
agents:
${SCRIPTED_ALICE}
  - { id: bob, name: Bob, backend: scripted, generator: { kind: script, lines: ["the sea.", "the hills."] } }
limits: { maxTurns: 4 }
`,
      {},
      { firstTurnPrefill: { text: 'Towards ' } },
    );
    // Untargeted: whoever speaks next (Alice, the first speaker) gets it.
    expect(turns.map((t) => [t.agentId, t.text, t.prefill])).toEqual([
      ['alice', 'Towards Where does the path go?', 'Towards '],
      ['bob', 'the sea.', undefined],
      ['alice', 'And then?', undefined],
      ['bob', 'the hills.', undefined],
    ]);
  });

  it('a first-turn prefill for an agent that is not there is refused before the run starts', async () => {
    await expect(
      run(`name: p\nagents:\n${SCRIPTED_ALICE}\n  - { id: bob, backend: scripted, generator: { kind: echo } }\n`, {}, { firstTurnPrefill: { agentId: 'carol', text: 'x' } }),
    ).rejects.toThrow(/cannot prefill a turn of 'carol': no such agent \(agents: alice, bob\)/u);
  });

  it('anthropic with thinking and a prefill is refused: the API does not allow both', async () => {
    await expect(
      run(
        `name: p\nagents:\n${SCRIPTED_ALICE}\n  - { id: c, backend: anthropic, model: m, prefill: "x", thinking: { budgetTokens: 2048 } }\n`,
        { ANTHROPIC_API_KEY: KEY },
      ),
    ).rejects.toThrow(/agent 'c' \(anthropic\): prefill and thinking cannot go together/u);
  });
});
