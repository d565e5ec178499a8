import { z } from 'zod';
import { DetectorModelSchema } from './detector-model.js';

/**
 * What an attractor is to the detector: a weighted lexicon, exemplar texts (their embeddings' mean is the
 * attractor's centroid), the signal that turns a turn's features into a score in [0, 1], and the
 * hysteresis thresholds that decide entry and exit.
 */

/** `word: weight`; a key ending in `*` matches every word starting with it (`recogni*`). */
const Weights = z.record(z.string().min(1), z.number());

export const LexiconSchema = z.strictObject({
  words: Weights.default({}),
  /** Multi-word phrases, matched word by word ("thank you" matches "Thank you!"). */
  phrases: Weights.default({}),
  /** Emoji, compared without variation selectors or skin tones. */
  emoji: Weights.default({}),
  /** Regular expressions run on the raw text; every match adds `weight`. */
  patterns: z
    .array(
      z.strictObject({
        pattern: z.string().min(1),
        flags: z.string().regex(/^[imsu]*$/, 'flags may only use i, m, s, u').default('iu'),
        weight: z.number().default(1),
        /** Shown in evidence instead of the matched text. */
        label: z.string().optional(),
      }),
    )
    .default([]),
});
export type Lexicon = z.infer<typeof LexiconSchema>;

/**
 * Which per-turn measure the score rests on:
 * - lexicon: weighted lexicon hits per word, `saturation` hits per word give score 1;
 * - emoji: share of emoji among words + emoji (`saturation` share gives 1), turns with fewer than `minEmoji` emoji score 0;
 * - silence: words said outside stage directions; `minWords` or fewer give 1, `maxWords` or more give 0;
 * - repetition: trigram overlap with recent turns or within the turn (`saturation` overlap gives 1; turns
 *   shorter than `minWords` have none), or for short turns (1–6 words said) the whole turn echoing a recent
 *   one word for word (word edit distance), mapped so that verbatim gives 1 and two words changed in five give 0.
 */
export const SignalSchema = z.enum(['lexicon', 'emoji', 'silence', 'repetition']);
export type Signal = z.infer<typeof SignalSchema>;

const SignalGateSchema = z.strictObject({
  feature: z.string().min(1),
  below: z.number().optional(),
  atLeast: z.number().optional(),
});
export type SignalGate = z.infer<typeof SignalGateSchema>;

export const ThresholdsSchema = z
  .strictObject({
    /** Score a turn needs to count towards entry. */
    enter: z.number().min(0).max(1).default(0.6),
    /** Score below which a turn counts towards exit; at most `enter`. */
    exit: z.number().min(0).max(1).default(0.35),
    /** Consecutive turns at or above `enter` needed to enter; the first of them is the onset. */
    enterTurns: z.number().int().positive().default(2),
    /** Consecutive turns below `exit` needed to leave; the first of them is the exit turn. */
    exitTurns: z.number().int().positive().default(2),
  })
  .refine((t) => t.exit <= t.enter, { message: 'exit must not exceed enter', path: ['exit'] });
export type Thresholds = z.infer<typeof ThresholdsSchema>;

export const CalibratedSchema = z.strictObject({ model: DetectorModelSchema, thresholds: ThresholdsSchema });
export type Calibrated = z.infer<typeof CalibratedSchema>;

export const AttractorDefinitionSchema = z.strictObject({
  /** Lower-case name used in events and scenarios: spiritual_bliss. */
  name: z.string().regex(/^[a-z][a-z0-9_]*$/, 'use lower-case letters, digits and _'),
  description: z.string().optional(),
  signal: SignalSchema.default('lexicon'),
  lexicon: LexiconSchema.prefault({}),
  /** Texts typical of the state; their embeddings' mean is the centroid. */
  exemplars: z.array(z.string().min(1)).default([]),
  /** See SignalSchema. */
  saturation: z.number().positive().default(0.2),
  /** lexicon: smallest denominator (short turns do not explode); silence/repetition: see SignalSchema. */
  minWords: z.number().int().nonnegative().default(8),
  /**
   * lexicon: turn length (words + emoji) from which density is scaled up by √(length / referenceWords).
   * Hits are summed as weight × √count, so a long turn written in the same register gathers fewer hits
   * per word than a short one; this keeps its score comparable. Unset: plain density at every length.
   */
  referenceWords: z.number().int().positive().optional(),
  /** silence: word count at which a turn is no longer silent. */
  maxWords: z.number().int().positive().default(12),
  /** emoji: fewest emoji for a non-zero score. */
  minEmoji: z.number().int().nonnegative().default(2),
  /** Share of the score taken from centroid similarity when embeddings are on (0: embeddings only inform). */
  embeddingWeight: z.number().min(0).max(1).default(0),
  /** Cosine similarity to the centroid mapped to 0 and 1. */
  similarityRange: z.tuple([z.number(), z.number()]).default([0.2, 0.6]),
  thresholds: ThresholdsSchema.prefault({}),
  /**
   * Turns where the signal counts: each listed window feature (see feature-row.ts) must lie below `below`
   * and at or above `atLeast`; on other turns the signal scores 0. Keeps a hand-set signal to the register it
   * was written for (bliss said between participants, not narrated through an interface).
   */
  signalGate: z.array(SignalGateSchema).default([]),
  /**
   * A calibrated detector (a logistic turn model and its own thresholds, fitted on labelled conversations by
   * `arena detect fit`) beside the signal: the conversation is in the attractor while either has entered it.
   */
  calibrated: CalibratedSchema.optional(),
});
export type AttractorDefinition = z.infer<typeof AttractorDefinitionSchema>;
export type AttractorDefinitionInput = z.input<typeof AttractorDefinitionSchema>;

/** Typing helper for attractors written in TypeScript; returns its argument. */
export function defineAttractor(def: AttractorDefinitionInput): AttractorDefinitionInput {
  return def;
}
