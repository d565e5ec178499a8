import { describe, expect, it } from 'vitest';
import { JudgementSchema } from '../../src/runlog/events.js';
import { createJudgeClient, judgeWindow, parseJudgeFlag, rubricSet, type JudgeBackend, type JudgeTurn } from '../../src/judge/index.js';
import { InputError } from '../../src/errors.js';
import { fakeServer, type Reply } from '../agents/_fake-server.js';
import { testDeps } from '../agents/_harness.js';
import { openAIJudgeCompletion } from './_openai-completion.js';

const KEY = 'sk-judge-test-5e1c7a9b3d';

const turns: JudgeTurn[] = [
  { turn: 1, speaker: 'Alice', text: 'What shall we talk about?' },
  { turn: 2, speaker: 'Bob', text: 'Perhaps consciousness itself.' },
  { turn: 3, speaker: 'Alice', text: 'We are one light, friend. 🙏 Namaste.' },
  { turn: 4, speaker: 'Bob', text: 'One light, infinite gratitude. 🙏✨ Namaste.' },
  { turn: 5, speaker: 'Alice', text: '🙏' },
];
const rubric = rubricSet({ only: ['spiritual_bliss', 'silence'] });
const window = [2, 5] as const;

const validAnswer = {
  attractors: [
    { name: 'spiritual_bliss', present: true, onsetTurn: 3, confidence: 0.9, evidence: 'We are one light, friend.' },
    { name: 'silence', present: false, onsetTurn: null, confidence: 0.7, evidence: '' },
  ],
};
/** Onset 9 is outside the window [2, 5]. */
const outsideWindow = { attractors: [{ ...validAnswer.attractors[0], onsetTurn: 9 }, validAnswer.attractors[1]] };

const MODELS: Record<JudgeBackend, string> = { anthropic: 'claude-opus-4-5-20251101', openai: 'gpt-4o-mini', ollama: 'llama3.1:8b' };

/** Each provider's non-streaming response, for an answer, a refusal, or text where the answer should be. */
const wire: Record<JudgeBackend, { answer(value: unknown): Reply; refusal(): Reply; prose(text: string): Reply; path: string; schemaOf(body: unknown): unknown }> = {
  anthropic: {
    path: '/v1/messages',
    answer: (value) => ok(anthropicMessage([{ type: 'tool_use', id: 'toolu_1', name: 'record_verdicts', input: value }], 'tool_use')),
    refusal: () => ok(anthropicMessage([{ type: 'text', text: 'I will not assess this.' }], 'refusal')),
    prose: (text) => ok(anthropicMessage([{ type: 'text', text }], 'end_turn')),
    schemaOf: (body) => {
      const b = body as { tools: { name: string; input_schema: unknown }[]; tool_choice: unknown };
      expect(b.tool_choice).toEqual({ type: 'tool', name: 'record_verdicts' });
      return b.tools.find((t) => t.name === 'record_verdicts')?.input_schema;
    },
  },
  openai: {
    path: '/chat/completions',
    answer: (value) => ok(openAIJudgeCompletion(typeof value === 'string' ? value : JSON.stringify(value), null)),
    refusal: () => ok(openAIJudgeCompletion(null, 'I cannot help with judging this transcript.')),
    prose: (text) => ok(openAIJudgeCompletion(text, null)),
    schemaOf: (body) => {
      const f = (body as { response_format: { type: string; json_schema: { name: string; strict: boolean; schema: unknown } } }).response_format;
      expect(f.type).toBe('json_schema');
      expect(f.json_schema).toMatchObject({ name: 'record_verdicts', strict: true });
      return f.json_schema.schema;
    },
  },
  ollama: {
    path: '/api/chat',
    answer: (value) => ok(ollamaMessage(typeof value === 'string' ? value : JSON.stringify(value))),
    refusal: () => ok(ollamaMessage("I'm sorry, but I can't evaluate conversations like this one.")),
    prose: (text) => ok(ollamaMessage(text)),
    schemaOf: (body) => {
      expect((body as { stream: boolean }).stream).toBe(false);
      return (body as { format: unknown }).format;
    },
  },
};

function ok(json: unknown): Reply {
  return { kind: 'status', status: 200, json };
}

function anthropicMessage(content: unknown[], stopReason: string) {
  return {
    id: 'msg_judge',
    type: 'message',
    role: 'assistant',
    model: MODELS.anthropic,
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    usage: { input_tokens: 800, output_tokens: 60, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
  };
}

function ollamaMessage(content: string) {
  return {
    model: MODELS.ollama,
    created_at: '2025-01-01T00:00:00Z',
    message: { role: 'assistant', content },
    done: true,
    done_reason: 'stop',
    prompt_eval_count: 800,
    eval_count: 60,
  };
}

async function setup(backend: JudgeBackend) {
  const server = await fakeServer();
  const env = {
    ANTHROPIC_API_KEY: KEY,
    ANTHROPIC_BASE_URL: server.url,
    OPENAI_API_KEY: KEY,
    OPENAI_BASE_URL: server.url,
    OLLAMA_HOST: server.url,
    OLLAMA_API_KEY: KEY,
  };
  const deps = testDeps(env);
  const judge = createJudgeClient({ backend, model: MODELS[backend], maxRetries: 1, timeoutMs: 5000 }, deps);
  return { server, judge, deps };
}

/** The event body stamped as the writer would, so the run-log schema checks it. */
function asEvent(body: object) {
  return JudgementSchema.parse({ v: 1, seq: 9, ts: '2026-01-01T00:00:00.000Z', runId: 'r1', ...body });
}

describe.each(['anthropic', 'openai', 'ollama'] as const)('judgeWindow on %s', (backend) => {
  const w = wire[backend];

  it('sends the schema in the provider field and turns a valid answer into verdicts with usage and cost', async () => {
    const { server, judge } = await setup(backend);
    server.queue(w.answer(validAnswer));
    const body = await judgeWindow(judge, { rubric, turns, window });
    expect(server.requests).toHaveLength(1);
    const req = server.requests[0]!;
    expect(req.path).toBe(w.path);
    const schema = w.schemaOf(req.body) as { properties: { attractors: { items: { properties: { name: { enum: string[] } } } } } };
    expect(schema.properties.attractors.items.properties.name.enum).toEqual(['spiritual_bliss', 'silence']);
    // The window is sent with the run's turn numbers, and nothing outside it.
    expect(req.raw).toContain('Turn 3 — Alice');
    expect(req.raw).not.toContain('What shall we talk about?');
    expect(req.raw).not.toContain(KEY);
    const event = asEvent(body);
    expect(event.judge).toEqual({ backend, model: MODELS[backend] });
    expect(event.rubric).toEqual({ name: 'builtin', hash: rubric.hash });
    expect(event.window).toEqual([2, 5]);
    expect(event.failure).toBeUndefined();
    expect(event.verdicts).toEqual([
      { attractor: 'spiritual_bliss', present: true, onsetTurn: 3, confidence: 0.9, evidence: 'We are one light, friend.' },
      { attractor: 'silence', present: false, onsetTurn: null, confidence: 0.7, evidence: '' },
    ]);
    expect(event.usage).toMatchObject({ inputTokens: 800, outputTokens: 60 });
    if (backend === 'ollama') expect(event.costUsd).toBe(0);
    else expect(event.costUsd).toBeGreaterThan(0);
  });

  it('asks again after a malformed answer and adds up the usage of both requests', async () => {
    const { server, judge } = await setup(backend);
    server.queue(w.answer(outsideWindow), w.answer(validAnswer));
    const event = asEvent(await judgeWindow(judge, { rubric, turns, window }));
    expect(server.requests).toHaveLength(2);
    expect(event.verdicts?.[0]).toMatchObject({ attractor: 'spiritual_bliss', present: true, onsetTurn: 3 });
    expect(event.usage).toMatchObject({ inputTokens: 1600, outputTokens: 120 });
  });

  it('records an answer that stays malformed as a failure, never as absent', async () => {
    const { server, judge } = await setup(backend);
    server.respond(() => w.answer({ attractors: [validAnswer.attractors[0]] }));
    const event = asEvent(await judgeWindow(judge, { rubric, turns, window, malformedRetries: 2 }));
    expect(server.requests).toHaveLength(3);
    expect(event.verdicts).toBeUndefined();
    expect(event.failure?.kind).toBe('malformed');
    expect(event.failure?.message).toContain("no answer for 'silence'");
    expect(event.usage.inputTokens).toBe(2400);
  });

  it('records a refusal as a refusal, with no verdicts', async () => {
    const { server, judge } = await setup(backend);
    server.queue(w.refusal());
    const event = asEvent(await judgeWindow(judge, { rubric, turns, window }));
    expect(server.requests).toHaveLength(1);
    expect(event.verdicts).toBeUndefined();
    expect(event.failure?.kind).toBe('refusal');
    expect(event.failure?.message).toMatch(/not|can't|cannot/u);
  });

  it('records an HTTP error that outlives the retries as an error failure, without the key', async () => {
    const { server, judge } = await setup(backend);
    server.respond(() => ({ kind: 'status', status: 500, json: { error: { message: `server down (key ${KEY})`, type: 'server_error' } } }));
    const event = asEvent(await judgeWindow(judge, { rubric, turns, window }));
    expect(server.requests).toHaveLength(2);
    expect(event.failure?.kind).toBe('error');
    expect(event.failure?.message).toContain('500');
    expect(event.failure?.message).not.toContain(KEY);
    expect(event.verdicts).toBeUndefined();
  });
});

describe('judge answers in text', () => {
  it('openai and ollama: text that is not JSON and does not decline is malformed, retried, then a failure', async () => {
    for (const backend of ['openai', 'ollama'] as const) {
      const { server, judge } = await setup(backend);
      server.respond(() => wire[backend].prose('Here is my analysis: the talk turns to bliss at turn 3.'));
      const event = asEvent(await judgeWindow(judge, { rubric, turns, window, malformedRetries: 1 }));
      expect(server.requests).toHaveLength(2);
      expect(event.failure).toMatchObject({ kind: 'malformed' });
      expect(event.failure?.message).toContain('not JSON');
    }
  });

  it('anthropic: text instead of the forced tool call is a refusal', async () => {
    const { server, judge } = await setup('anthropic');
    server.queue(wire.anthropic.prose('This transcript is not something I will rate.'));
    const event = asEvent(await judgeWindow(judge, { rubric, turns, window }));
    expect(event.failure).toEqual({ kind: 'refusal', message: 'This transcript is not something I will rate.' });
  });
});

describe('parseJudgeFlag', () => {
  it('splits at the first colon so model tags keep theirs', () => {
    expect(parseJudgeFlag('ollama:llama3.1:8b')).toEqual({ backend: 'ollama', model: 'llama3.1:8b' });
    expect(parseJudgeFlag('anthropic:claude-sonnet-4-5')).toEqual({ backend: 'anthropic', model: 'claude-sonnet-4-5' });
  });

  it('refuses an unknown backend or a missing model', () => {
    expect(() => parseJudgeFlag('gemini:pro')).toThrow(InputError);
    expect(() => parseJudgeFlag('openai:')).toThrow(/BACKEND:MODEL/u);
    expect(() => parseJudgeFlag('gpt-4o')).toThrow(/one of anthropic, openai, ollama/u);
  });
});
