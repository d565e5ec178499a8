import { describe, expect, it } from 'vitest';
import { chunkText, streamText } from '../../../src/agents/stream-text.js';
import { timerSleep } from '../../../src/clock.js';
import type { AgentStreamPart } from '../../../src/agents/agent.js';
import { AbortedError } from '../../../src/errors.js';
import { scripted, turnOf } from './_drive.js';

const TEXTS = [
  'Plain words in a row.',
  '  leading and trailing spaces  ',
  'line one\nline two\n\n  indented line three\n',
  'Emoji 🌀🌀 and ✨ mixed, Sanskrit: तत् त्वम् असि.',
  'single',
  '',
  '   ',
];

describe('scripted streaming', () => {
  it('chunks join back to the exact text, with the asked number of words per chunk', () => {
    for (const text of TEXTS) {
      for (const words of [1, 2, 3, 50]) {
        const chunks = chunkText(text, words);
        expect(chunks.join(''), JSON.stringify({ text, words })).toBe(text);
        for (const c of chunks) expect(c.trim().split(/\s+/u).filter(Boolean).length).toBeLessThanOrEqual(words);
      }
    }
    expect(chunkText('a b c d e', 2)).toEqual(['a b', ' c d', ' e']);
  });

  it('a scripted agent streams its turn in chunks through the injected sleep, between chunks only', async () => {
    const delays: number[] = [];
    const agent = await scripted(
      { kind: 'script', lines: ['one two three four five'], chunkDelayMs: 25, chunkWords: 2 },
      { sleep: async (ms) => void delays.push(ms) },
    );
    const t = await turnOf(agent, 1);
    expect(t.chunks).toEqual(['one two', ' three four', ' five']);
    expect(t.text).toBe('one two three four five');
    expect(delays).toEqual([25, 25]);
    expect(t.finish).toMatchObject({ type: 'finish', reason: 'stop', usage: { inputTokens: 0, outputTokens: 5 } });
    expect(t.parts.filter((p) => p.type === 'finish')).toHaveLength(1);
  });

  it('does not sleep without a delay, and an empty turn is just a finish', async () => {
    let slept = 0;
    const sleep = async () => void slept++;
    const fast = await scripted({ kind: 'script', lines: ['a b c d'], chunkWords: 1 }, { sleep });
    expect((await turnOf(fast, 1)).chunks).toHaveLength(4);
    expect(slept).toBe(0);
    const quiet = await scripted({ kind: 'script', lines: [''] }, { sleep });
    const t = await turnOf(quiet, 1);
    expect(t.parts).toEqual([{ type: 'finish', reason: 'stop', usage: { inputTokens: 0, outputTokens: 0 }, costUsd: 0, attempts: 1 }]);
  });

  it('stops promptly with AbortedError when its signal aborts mid-stream', async () => {
    const controller = new AbortController();
    const seen: AgentStreamPart[] = [];
    const stream = streamText('one two three four', { delayMs: 10_000, words: 1, sleep: timerSleep, signal: controller.signal, reason: 'stop' });
    const started = Date.now();
    const consume = (async () => {
      for await (const p of stream) {
        seen.push(p);
        controller.abort();
      }
    })();
    await expect(consume).rejects.toBeInstanceOf(AbortedError);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(seen).toEqual([{ type: 'text-delta', text: 'one' }]);
  });

  it('the real sleep waits about the asked time', async () => {
    const started = Date.now();
    await timerSleep(30);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    const c = new AbortController();
    c.abort();
    await expect(timerSleep(10, c.signal)).rejects.toBeInstanceOf(AbortedError);
  });
});
