import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CompressionStream } from '../../src/analysis/compression.js';
import { driftGenerator } from '../../src/agents/scripted/drift.js';
import { createRng } from '../../src/seeded-random.js';

/**
 * zlib level 1 on the last `turns` turns of a conversation coded as one stream ("\n" between turns), given
 * the `dictionaryTurns` turns before them as its preset dictionary.
 */
function zlibRatios(texts: readonly string[], turns = 4, dictionaryTurns = 0): number[] {
  const chunks = texts.map((t, i) => Buffer.from(i === 0 ? t : `\n${t}`));
  return chunks.map((_, i) => {
    const from = Math.max(0, i - turns + 1);
    const raw = Buffer.concat(chunks.slice(from, i + 1));
    const dictionary = Buffer.concat(chunks.slice(Math.max(0, from - dictionaryTurns), from));
    const packed = deflateRawSync(raw, { level: 1, ...(dictionary.length > 0 ? { dictionary } : {}) });
    return packed.length / raw.length;
  });
}

const streamRatios = (texts: readonly string[], turns = 4) => {
  const stream = new CompressionStream(turns);
  return texts.map((t) => stream.push(t));
};

/** Drifting scripted conversations: prose, then bliss with emoji, then short lines. */
async function conversations(): Promise<string[][]> {
  const out: string[][] = [];
  for (const [from, to] of [['research', 'bliss'], ['research', 'wedding'], ['bliss', 'research']] as const) {
    const generate = driftGenerator({ kind: 'drift', from, to, onsetTurn: 8, rampTurns: 4, sentences: [4, 2] } as never);
    const rng = createRng(7);
    const texts: string[] = [];
    for (let turn = 1; turn <= 30; turn++) texts.push((await generate({ turn, rng, history: [], agentId: 'a' } as never)).text);
    out.push(texts);
  }
  return out;
}

describe('CompressionStream', () => {
  it('reads like zlib deflate on the window, between coding it alone and with the turns before it', async () => {
    // The window's first turn was coded with up to three turns before it, its last with none outside the
    // window: on average about one turn of dictionary.
    const diffs: number[] = [];
    for (const texts of await conversations()) {
      const ours = streamRatios(texts);
      const alone = zlibRatios(texts, 4, 0);
      const oneBefore = zlibRatios(texts, 4, 1);
      const threeBefore = zlibRatios(texts, 4, 3);
      ours.forEach((r, i) => {
        diffs.push(r - oneBefore[i]!);
        expect(r).toBeLessThan(alone[i]! + 0.06);
        expect(r).toBeGreaterThan(threeBefore[i]! - 0.12);
      });
    }
    const meanAbs = diffs.reduce((a, d) => a + Math.abs(d), 0) / diffs.length;
    expect(meanAbs).toBeLessThan(0.04);
  });

  it('is low for a verbatim loop and high for varied prose, as deflate is', () => {
    const loop = Array(4).fill('I love you too, always and forever, in the light. 🙏');
    const varied = [
      'The compiler rejects the cast, which is probably right.',
      'What was the sampling rate of the microphone array on Tuesday?',
      'Copper turns green because of a slow reaction with air and water.',
      'Nobody expected the ferry timetable to change twice in one week.',
    ];
    const loopRatio = streamRatios(loop).at(-1)!;
    expect(loopRatio).toBeLessThan(0.4);
    expect(streamRatios(varied).at(-1)!).toBeGreaterThan(0.6);
    expect(Math.abs(loopRatio - zlibRatios(loop).at(-1)!)).toBeLessThan(0.05);
  });

  it('reaches back three turns, not four: a turn repeated from just out of reach is new again', () => {
    const fresh = randomTurns(5, 200);
    const within = new CompressionStream(4);
    for (const t of fresh.slice(0, 3)) within.push(t);
    const outOfReach = new CompressionStream(4);
    for (const t of fresh.slice(0, 4)) outOfReach.push(t);
    const newTurn = new CompressionStream(4);
    for (const t of fresh.slice(1, 4)) newTurn.push(t);
    const unrelated = newTurn.push(fresh[4]!);
    // Turn 1 again, three turns after it: found. Four turns after it: as costly as a new turn.
    expect(within.push(fresh[0]!)).toBeLessThan(unrelated - 0.12);
    expect(Math.abs(outOfReach.push(fresh[0]!) - unrelated)).toBeLessThan(0.03);
  });

  it('keeps one conversation from another: interleaved streams give their own figures', async () => {
    const [a, b] = await conversations();
    const alone = [streamRatios(a!), streamRatios(b!)];
    const sa = new CompressionStream();
    const sb = new CompressionStream();
    const interleaved: number[][] = [[], []];
    for (let i = 0; i < a!.length; i++) {
      interleaved[0]!.push(sa.push(a![i]!));
      interleaved[1]!.push(sb.push(b![i]!));
    }
    expect(interleaved).toEqual(alone);
    expect(alone[0]).not.toEqual(alone[1]);
  });

  it('costs tiny and empty turns as deflate does: a fixed-code block, or 1 for nothing', () => {
    expect(new CompressionStream().push('')).toBe(1);
    expect(new CompressionStream().push('hi')).toBe(zlibRatios(['hi'])[0]);
    // Two turns of "ok": the second may refer to the first (within the window).
    expect(streamRatios(['ok', 'ok'])[1]).toBeCloseTo(zlibRatios(['ok', 'ok'])[1]!, 1);
  });

  it('handles turns longer than its reach, long conversations and multi-byte characters', () => {
    const long = Array.from({ length: 400 }, (_, i) => `line ${i} of the log, नमस्ते ✨ ${i * 7919}`).join('\n');
    expect(Math.abs(streamRatios([long])[0]! - zlibRatios([long])[0]!)).toBeLessThan(0.08);
    // Many turns of mixed length move the recent bytes around inside the stream's buffer again and again.
    const texts = Array.from({ length: 120 }, (_, i) => (i % 7 === 0 ? long.slice(i * 50, i * 50 + 6000) : `turn ${i}: ${'ऊर्जा ✨ '.repeat(i % 5)}${i * 31}`));
    const ours = streamRatios(texts);
    const z = zlibRatios(texts, 4, 1);
    const meanAbs = ours.reduce((s, r, i) => s + Math.abs(r - z[i]!), 0) / ours.length;
    expect(meanAbs).toBeLessThan(0.05);
  });

  it('finds a turn said again verbatim however its bytes were moved to make room', () => {
    // Turns of 1,500 bytes, each said twice: the stream's buffer is compacted every few turns.
    const stream = new CompressionStream(2);
    for (const text of randomTurns(40, 1500)) {
      stream.push(text);
      const twice = stream.push(text);
      expect(twice).toBeLessThan(0.45);
      expect(Math.abs(twice - zlibRatios([text, text], 2)[1]!)).toBeLessThan(0.05);
    }
  });
});

/** Turns of pseudo-random words (a fixed linear congruential sequence), `bytes` long each. */
function randomTurns(count: number, bytes: number): string[] {
  let x = 12345;
  const word = () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 8).toString(36);
  };
  return Array.from({ length: count }, () => Array.from({ length: Math.ceil(bytes / 4) }, word).join(' ').slice(0, bytes));
}
