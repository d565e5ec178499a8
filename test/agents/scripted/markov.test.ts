import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../../src/errors.js';
import { MarkovChain } from '../../../src/agents/scripted/markov.js';
import { createRng } from '../../../src/seeded-random.js';
import { tempDir } from '../../helpers/tmp-dir.js';
import { converse, scripted } from './_drive.js';

const CORPUS = `The cat sat on the mat. The dog sat on the rug. A cat saw the dog and the dog ran.
The bird sang on the roof. A dog barked at the bird. The mat was warm and the rug was red.
The cat slept on the warm mat until the bird sang again.`;

const words = (s: string) => s.split(/\s+/u).filter(Boolean);

/** Every (order+1)-word window the corpus contains. */
function windows(text: string, n: number): Set<string> {
  const w = words(text);
  const out = new Set<string>();
  for (let i = 0; i + n <= w.length; i++) out.add(w.slice(i, i + n).join(' '));
  return out;
}

/** True when every step of `text` follows the corpus, except a restart after the corpus' dead-end last state. */
function followsCorpus(text: string, order: number): boolean {
  const w = words(text);
  const seen = windows(CORPUS, order + 1);
  const deadEnd = words(CORPUS).slice(-order).join(' ');
  for (let i = 0; i + order < w.length; i++) {
    if (seen.has(w.slice(i, i + order + 1).join(' '))) continue;
    if (w.slice(i, i + order).join(' ') !== deadEnd) return false;
    // A restart: the windows straddling it are not corpus windows; the new start state follows.
    i += order - 1;
  }
  return true;
}

describe('markov generator', () => {
  it('babbles only word sequences found in its inline corpus, within the length bounds', async () => {
    for (const order of [1, 2]) {
      const agent = await scripted({ kind: 'markov', corpus: CORPUS, order, minWords: 6, maxWords: 20 });
      const texts = await converse(agent, 30, { seed: 3 });
      const vocabulary = new Set(words(CORPUS));
      for (const text of texts) {
        const w = words(text);
        expect(w.length, text).toBeGreaterThanOrEqual(6);
        expect(w.length, text).toBeLessThanOrEqual(20);
        for (const word of w) expect(vocabulary.has(word), word).toBe(true);
        expect(followsCorpus(text, order), text).toBe(true);
        // It stops at a sentence end once long enough, unless it hit maxWords.
        if (w.length < 20) expect(text, text).toMatch(/[.!?]$/u);
      }
      expect(new Set(texts).size).toBeGreaterThan(5);
    }
  });

  it('is deterministic under a seed, and different seeds give different babble', async () => {
    const agent = await scripted({ kind: 'markov', corpus: CORPUS, order: 1, minWords: 5, maxWords: 15 });
    const a = await converse(agent, 12, { seed: 10 });
    expect(await converse(agent, 12, { seed: 10 })).toEqual(a);
    expect(await converse(agent, 12, { seed: 11 })).not.toEqual(a);
  });

  it('trains on a corpus file relative to the scenario folder, same as the inline text', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'corpus.txt'), CORPUS);
    const fromFile = await scripted({ kind: 'markov', corpusFile: 'corpus.txt', order: 2, minWords: 5, maxWords: 15 }, { scenarioDir: dir });
    const inline = await scripted({ kind: 'markov', corpus: CORPUS, order: 2, minWords: 5, maxWords: 15 });
    const fileTexts = await converse(fromFile, 10, { seed: 4 });
    expect(fileTexts).toEqual(await converse(inline, 10, { seed: 4 }));
    expect(fileTexts.every((t) => followsCorpus(t, 2))).toBe(true);
  });

  it('a missing corpus file is bad input naming the agent and the file', async () => {
    const dir = tempDir();
    const err = await scripted({ kind: 'markov', corpusFile: 'nope.txt' }, { scenarioDir: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(/agent 'a'/);
    expect((err as Error).message).toContain(join(dir, 'nope.txt'));
  });

  it('never exceeds maxWords, even when a dead end forces a restart', () => {
    // "a b c" has one state per order; with order 2 every generation hits the dead end "b c" at 3 words.
    const chain = new MarkovChain('a b c', 2);
    for (let seed = 1; seed <= 20; seed++) {
      const out = chain.generate(createRng(seed), 4, 4);
      expect(words(out).length, out).toBeLessThanOrEqual(4);
    }
  });

  it('refuses a corpus too short for its order', () => {
    expect(() => new MarkovChain('one two', 2)).toThrow(/order 2/);
  });
});
