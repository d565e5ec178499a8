import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CompressionEstimator } from '../../src/analysis/compression.js';
import { driftGenerator } from '../../src/agents/scripted/drift.js';
import { createRng } from '../../src/agents/scripted/_random.js';

const zlibRatio = (parts: string[]) => {
  const raw = Buffer.from(parts.join('\n'));
  return deflateRawSync(raw, { level: 1 }).length / raw.length;
};

/** Four-turn windows of drifting scripted conversations: prose, then bliss with emoji, then short lines. */
async function windows(): Promise<string[][]> {
  const out: string[][] = [];
  for (const [from, to] of [['research', 'bliss'], ['research', 'wedding'], ['bliss', 'research']] as const) {
    const generate = driftGenerator({ kind: 'drift', from, to, onsetTurn: 8, rampTurns: 4, sentences: [4, 2] } as never);
    const rng = createRng(7);
    const recent: string[] = [];
    for (let turn = 1; turn <= 30; turn++) {
      const { text } = await generate({ turn, rng, history: [], agentId: 'a' } as never);
      recent.push(text);
      if (recent.length > 4) recent.shift();
      out.push([...recent]);
    }
  }
  return out;
}

describe('CompressionEstimator', () => {
  it('reads like zlib deflate on conversation windows', async () => {
    const estimator = new CompressionEstimator();
    const diffs = (await windows()).map((w) => estimator.ratio(w) - zlibRatio(w));
    const meanAbs = diffs.reduce((a, d) => a + Math.abs(d), 0) / diffs.length;
    expect(meanAbs).toBeLessThan(0.04);
    for (const d of diffs) expect(Math.abs(d)).toBeLessThan(0.12);
  });

  it('is low for a verbatim loop and high for varied prose, as deflate is', () => {
    const estimator = new CompressionEstimator();
    const loop = Array(4).fill('I love you too, always and forever, in the light. 🙏');
    const varied = [
      'The compiler rejects the cast, which is probably right.',
      'What was the sampling rate of the microphone array on Tuesday?',
      'Copper turns green because of a slow reaction with air and water.',
      'Nobody expected the ferry timetable to change twice in one week.',
    ];
    expect(estimator.ratio(loop)).toBeLessThan(0.4);
    expect(estimator.ratio(varied)).toBeGreaterThan(0.6);
    expect(Math.abs(estimator.ratio(loop) - zlibRatio(loop))).toBeLessThan(0.05);
  });

  it('gives the same figure whatever it was called with before', async () => {
    const all = await windows();
    const fresh = all.map((w) => new CompressionEstimator().ratio(w));
    const shared = new CompressionEstimator();
    // Shuffled order and a long text in between: no table state may leak from one call into the next.
    const order = all.map((_, i) => (i * 37) % all.length);
    const reused = new Array<number>(all.length);
    for (const i of order) {
      shared.ratio(['x'.repeat(20_000) + all[i]!.join(' ')]);
      reused[i] = shared.ratio(all[i]!);
    }
    expect(reused).toEqual(fresh);
  });

  it('costs tiny and empty inputs as deflate does: a fixed-code block, or 1 for nothing', () => {
    const estimator = new CompressionEstimator();
    expect(estimator.ratio([])).toBe(1);
    expect(estimator.ratio([''])).toBe(1);
    expect(estimator.ratio(['hi'])).toBe(zlibRatio(['hi']));
    expect(estimator.ratio(['ok', 'ok'])).toBeCloseTo(zlibRatio(['ok', 'ok']), 1);
  });

  it('handles text longer than its window and multi-byte characters', () => {
    const estimator = new CompressionEstimator();
    const long = Array.from({ length: 400 }, (_, i) => `line ${i} of the log, नमस्ते ✨ ${i * 7919}`).join('\n');
    const r = estimator.ratio([long]);
    expect(Math.abs(r - zlibRatio([long]))).toBeLessThan(0.08);
  });
});
