import type { Participant } from '../agents/agent.js';
import { createRng, hashSeed } from '../seeded-random.js';
import type { TurnPolicy } from './scenario.js';

/**
 * Who speaks at `turn`. alternate and round-robin go around the table starting with `first`; random draws
 * anyone but the previous speaker, from the seed and the turn number alone, so a resumed run picks the same.
 */
export function nextSpeaker(
  policy: TurnPolicy,
  participants: readonly Participant[],
  firstIndex: number,
  turn: number,
  previousId: string | undefined,
  seed: number,
): Participant {
  const n = participants.length;
  if (policy === 'random' && n > 1 && turn > 1) {
    const others = participants.filter((p) => p.id !== previousId);
    const rng = createRng(hashSeed(seed, 'turn-policy', turn));
    return others[Math.floor(rng() * others.length)]!;
  }
  return participants[(firstIndex + turn - 1) % n]!;
}
