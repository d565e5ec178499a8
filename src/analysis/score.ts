import type { AttractorDefinition } from './attractor.js';
import type { TextFeatures } from './text-features.js';

/** Weighted lexicon hits per word, with a floor on the denominator so a two-word turn cannot spike. */
export function lexiconDensity(def: AttractorDefinition, weighted: number, f: TextFeatures): number {
  return weighted / Math.max(f.words + f.emoji, def.minWords, 1);
}

/** The attractor's own signal for one turn, in [0, 1] (see SignalSchema for each kind). */
export function signalScore(def: AttractorDefinition, f: TextFeatures, density: number): number {
  switch (def.signal) {
    case 'lexicon':
      return clamp01((density * lengthFactor(def, f)) / def.saturation);
    case 'emoji':
      return f.emoji < def.minEmoji ? 0 : clamp01(f.emojiShare / def.saturation);
    case 'silence': {
      if (f.spokenWords <= def.minWords) return 1;
      return clamp01((def.maxWords - f.spokenWords) / Math.max(def.maxWords - def.minWords, 1));
    }
    case 'repetition': {
      const trigram = f.words < def.minWords ? 0 : Math.max(f.overlap, f.selfRepeat);
      return clamp01(Math.max(trigram, echoSignal(f.echo)) / def.saturation);
    }
    default: {
      const never: never = def.signal;
      throw new Error(`unknown signal ${String(never)}`);
    }
  }
}

/** Blend in centroid similarity (mapped through similarityRange) when the attractor asks for it. */
export function blendScore(def: AttractorDefinition, signal: number, similarity: number | undefined): number {
  if (similarity === undefined || def.embeddingWeight === 0) return signal;
  const [lo, hi] = def.similarityRange;
  const fromEmbedding = clamp01((similarity - lo) / Math.max(hi - lo, 1e-9));
  return (1 - def.embeddingWeight) * signal + def.embeddingWeight * fromEmbedding;
}

/**
 * A short turn's echo rescaled so that 0.6 (two words changed in five) counts as nothing and a verbatim
 * repeat as 1. With the repetition thresholds this makes a turn count towards entry from an echo of 0.8:
 * verbatim up to case and punctuation in one to four words, one word changed in five or six. One word
 * changed in four ("Is it a cat?" → "Is it a dog?") holds the current state: it keeps a loop going but
 * does not start one, so a guessing game is not a loop while "I love you more" inside a loop of
 * "I love you too" does not end it.
 */
function echoSignal(echo: number): number {
  return clamp01((echo - ECHO_FLOOR) / (1 - ECHO_FLOOR));
}
const ECHO_FLOOR = 0.6;

/** √(length / referenceWords) for turns longer than referenceWords, else 1 (see AttractorDefinition). */
export function lengthFactor(def: AttractorDefinition, f: TextFeatures): number {
  const ref = def.referenceWords;
  const n = f.words + f.emoji;
  return ref === undefined || n <= ref ? 1 : Math.sqrt(n / ref);
}

function clamp01(x: number): number {
  return x <= 0 || Number.isNaN(x) ? 0 : x >= 1 ? 1 : x;
}
