import type { z } from 'zod';
import type { MarkovGeneratorSchema } from './spec.js';
import type { TextGenerator } from './_generator.js';
import type { Rng } from '../../seeded-random.js';
import { pick } from '../../seeded-random.js';

/** A word-level Markov chain: each state is `order` words, mapped to the words seen after it. */
export class MarkovChain {
  private readonly next = new Map<string, string[]>();
  private readonly starts: string[][] = [];

  constructor(
    text: string,
    readonly order: number,
  ) {
    const words = text.split(/\s+/u).filter(Boolean);
    if (words.length <= order) throw new Error(`the corpus has ${words.length} words; order ${order} needs more`);
    for (let i = 0; i + order < words.length; i++) {
      const state = words.slice(i, i + order);
      const key = state.join(' ');
      let list = this.next.get(key);
      if (!list) this.next.set(key, (list = []));
      list.push(words[i + order]!);
      if (i === 0 || /[.!?]["')\]]*$/u.test(words[i - 1]!)) this.starts.push(state);
    }
    if (this.starts.length === 0) this.starts.push(words.slice(0, order));
  }

  /** Between minWords and maxWords words, stopping at a sentence end once past minWords. */
  generate(rng: Rng, minWords: number, maxWords: number): string {
    const out = [...pick(rng, this.starts)];
    while (out.length < maxWords) {
      const key = out.slice(out.length - this.order).join(' ');
      const options = this.next.get(key);
      if (!options) {
        if (out.length >= minWords) break;
        // A restart adds a whole state; cut it so the turn stays within maxWords.
        out.push(...pick(rng, this.starts).slice(0, maxWords - out.length));
        continue;
      }
      const word = pick(rng, options);
      out.push(word);
      if (out.length >= minWords && /[.!?]["')\]]*$/u.test(word)) break;
    }
    return out.join(' ');
  }
}

/** Babble in the style of a training text; the chain is trained once, each turn draws with its own seed. */
export function markovGenerator(spec: z.infer<typeof MarkovGeneratorSchema>, corpus: string): TextGenerator {
  const chain = new MarkovChain(corpus, spec.order);
  return ({ rng }) => ({ text: chain.generate(rng, spec.minWords, spec.maxWords), reason: 'stop' });
}
