import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Agent, AgentStreamPart } from '../../../src/agents/agent.js';
import { createAgent } from '../../../src/agents/create-agent.js';
import { LlamaCppAgentSchema } from '../../../src/agents/spec.js';
import { buildDocument } from '../../../src/agents/simulator/document-view.js';
import { resolveTemplate } from '../../../src/agents/simulator/templates.js';
import { AbortedError } from '../../../src/errors.js';
import { skipLlamaTests } from '../../helpers/llama.js';
import { BABBLER, TALKERS, writeTinyGguf, type TinyModelOptions } from '../../helpers/tiny-gguf.js';
import { tempDir } from '../../helpers/tmp-dir.js';
import { ALICE, BOB, collect, errors, finalText, finish, say, streamOptions, testDeps } from '../_harness.js';

// Every test here runs the real llama.cpp engine (node-llama-cpp's prebuilt CPU binary) on a GGUF the
// test writes; the names carry "llama" so that CI fails a run that skipped them.

function llamaAgent(dir: string, model: TinyModelOptions, id: 'alice' | 'bob', extra: Record<string, unknown> = {}): Promise<Agent> {
  const file = join(dir, `${model === TALKERS ? 'talkers' : 'babbler'}.gguf`);
  writeTinyGguf(file, model);
  const spec = LlamaCppAgentSchema.parse({
    id,
    name: id === 'alice' ? 'Alice' : 'Bob',
    backend: 'llama-cpp',
    modelPath: file,
    contextWindow: 512,
    threads: 1,
    ...extra,
  });
  return createAgent(spec, testDeps({}, { scenarioDir: dir }));
}

const deltas = (parts: readonly AgentStreamPart[]) => parts.flatMap((p) => (p.type === 'text-delta' ? [p.text] : []));

/** The prompt's length in tokens as llama.cpp splits it (BOS included), from the model's vocabulary alone. */
async function engineTokens(file: string, prompt: string): Promise<number> {
  const { getLlama } = await import('node-llama-cpp');
  const llama = await getLlama({ gpu: false, build: 'never', skipDownload: true });
  const model = await llama.loadModel({ modelPath: file, vocabOnly: true });
  try {
    return model.tokenize(prompt).length + (model.tokens.shouldPrependBosToken ? 1 : 0);
  } finally {
    await model.dispose();
  }
}

describe.skipIf(skipLlamaTests)('llama-cpp simulator on a tiny GGUF (real llama.cpp)', () => {
  it('llama: two agents take turns, each streamed token by token and stopped at the other speaker’s tag, with the engine’s token counts', async () => {
    const dir = tempDir();
    const alice = await llamaAgent(dir, TALKERS, 'alice');
    const bob = await llamaAgent(dir, TALKERS, 'bob');
    try {
      const first = await collect(alice.stream(streamOptions({ self: ALICE, turn: 1 })));
      expect(errors(first)).toEqual([]);
      // One delta per token the model wrote; the newline and "Bob:" it wrote next never reach the text.
      expect(deltas(first)).toEqual(['ka', ' lo', ' mi']);
      expect(finalText(first)).toBe('ka lo mi');
      const prompt1 = buildDocument(streamOptions({ self: ALICE }), { template: resolveTemplate('chat'), personas: [], reservedTokens: 256 }).prompt;
      // Output: ka, lo, mi, the newline and the tag — counted by the engine, stop tag included.
      expect(finish(first)).toMatchObject({ reason: 'stop_sequence', usage: { inputTokens: await engineTokens(join(dir, 'talkers.gguf'), prompt1), outputTokens: 5 }, costUsd: 0 });

      const transcript = [say(1, ALICE, finalText(first))];
      const second = await collect(bob.stream(streamOptions({ self: BOB, transcript, turn: 2 })));
      expect(deltas(second)).toEqual(['zu', ' ve']);
      expect(finish(second)).toMatchObject({ reason: 'stop_sequence', usage: { outputTokens: 4 } });

      transcript.push(say(2, BOB, finalText(second)));
      const third = await collect(alice.stream(streamOptions({ self: ALICE, transcript, turn: 3 })));
      expect(finalText(third)).toBe('ka lo mi');
      const prompt3 = buildDocument(streamOptions({ self: ALICE, transcript }), { template: resolveTemplate('chat'), personas: [], reservedTokens: 256 }).prompt;
      expect(prompt3).toBe(`${prompt1} ka lo mi\nBob: zu ve\nAlice:`);
      expect(finish(third)).toMatchObject({ usage: { inputTokens: await engineTokens(join(dir, 'talkers.gguf'), prompt3), outputTokens: 5 } });
    } finally {
      await alice.close?.();
      await bob.close?.();
    }
  });

  it('llama: maxTokens ends a turn that never reaches a tag, with reason length', async () => {
    const dir = tempDir();
    const alice = await llamaAgent(dir, BABBLER, 'alice', { sampling: { maxTokens: 7 } });
    try {
      const parts = await collect(alice.stream(streamOptions({ self: ALICE, turn: 1 })));
      expect(finalText(parts)).toBe('ka lo mi ka lo mi ka');
      expect(finish(parts)).toMatchObject({ reason: 'length', usage: { outputTokens: 7 } });
    } finally {
      await alice.close?.();
    }
  });

  it('llama: the abort signal ends a turn mid-stream, and the next turn runs on the same context', async () => {
    const dir = tempDir();
    const alice = await llamaAgent(dir, BABBLER, 'alice', { sampling: { maxTokens: 100_000 } });
    try {
      const controller = new AbortController();
      const seen: string[] = [];
      const consume = async () => {
        for await (const p of alice.stream(streamOptions({ self: ALICE, turn: 1, signal: controller.signal }))) {
          if (p.type === 'text-delta') seen.push(p.text);
          if (seen.length === 5) controller.abort();
        }
      };
      await expect(consume()).rejects.toThrow(AbortedError);
      // Stopped where it was told to, far from the 100 000 tokens it was allowed.
      expect(seen.length).toBeGreaterThanOrEqual(5);
      expect(seen.length).toBeLessThan(50);

      const next = await collect(alice.stream(streamOptions({ self: ALICE, turn: 2, sampling: { maxTokens: 4 } })));
      expect(finalText(next)).toBe('ka lo mi ka');
      expect(finish(next)).toMatchObject({ reason: 'length' });
    } finally {
      await alice.close?.();
    }
  });

  it('llama: sampling with a seed is reproducible, and the seed is what varies the text', async () => {
    const dir = tempDir();
    // A weak designed path leaves room for the random weights: at temperature 1 the turn is sampled.
    const loose: TinyModelOptions = { ...BABBLER, strength: 2 };
    const file = join(dir, 'loose.gguf');
    writeTinyGguf(file, loose);
    const agentWith = (seed: number) =>
      createAgent(
        LlamaCppAgentSchema.parse({ id: 'alice', name: 'Alice', backend: 'llama-cpp', modelPath: file, contextWindow: 512, threads: 1, sampling: { temperature: 1, seed, maxTokens: 24 } }),
        testDeps({}, { scenarioDir: dir }),
      );
    const texts: string[] = [];
    for (const seed of [3, 3, 4]) {
      const agent = await agentWith(seed);
      try {
        texts.push(finalText(await collect(agent.stream(streamOptions({ self: ALICE, turn: 1 })))));
      } finally {
        await agent.close?.();
      }
    }
    expect(texts[0]).not.toBe('');
    expect(texts[1]).toBe(texts[0]);
    expect(texts[2]).not.toBe(texts[0]);
  });
});
