import type { FinishReason, Participant, TranscriptEntry } from '../agent.js';
import type { Rng } from '../../seeded-random.js';

/** What a scripted generator knows when it is asked for a turn. */
export interface GeneratorContext {
  transcript: readonly TranscriptEntry[];
  self: Participant;
  participants: readonly Participant[];
  turn: number;
  /** How many turns this agent has generated before (its opening lines excluded). */
  ownIndex: number;
  /** Randomness derived from (seed, agent id, turn): the same turn always draws the same numbers. */
  rng: Rng;
}

/** A scripted generator: the whole text of one turn, computed from the context alone. */
export type TextGenerator = (ctx: GeneratorContext) => { text: string; reason: FinishReason };

/** The last entry not spoken by `selfId`, if any. */
export function lastFromOthers(transcript: readonly TranscriptEntry[], selfId: string): TranscriptEntry | undefined {
  for (let i = transcript.length - 1; i >= 0; i--) {
    if (transcript[i]!.speakerId !== selfId) return transcript[i];
  }
  return undefined;
}
