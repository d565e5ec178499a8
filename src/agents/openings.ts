import type { AgentStreamPart, TranscriptEntry } from './agent.js';
import type { Sleep } from '../clock.js';
import { streamText } from './stream-text.js';

/*
 * Opening lines: an agent's first turns, said word for word before its backend is asked for anything. A scenario
 * gives one line (a string) or several (a list). The arena speaks them; a scripted generator counts its turns
 * after them, so its first generated turn is its first, however many openings came before.
 */

/** The opening lines a scenario gives an agent, as a list. */
export function openingLines(opening: string | readonly string[] | undefined): string[] {
  return opening === undefined ? [] : typeof opening === 'string' ? [opening] : [...opening];
}

/** Turns `agentId` has spoken so far, its opening lines included (injected and perturbing texts are not turns). */
export function spokenTurns(transcript: readonly TranscriptEntry[], agentId: string): number {
  let n = 0;
  for (const e of transcript) if (e.speakerId === agentId && e.kind === 'turn') n++;
  return n;
}

/** The line `agentId` opens its next turn with, or undefined once its opening lines are said. */
export function nextOpening(openings: readonly string[], transcript: readonly TranscriptEntry[], agentId: string): string | undefined {
  return openings[spokenTurns(transcript, agentId)];
}

/** Turns the agent's backend has generated so far: the turns it has spoken after its opening lines. */
export function generatedTurns(transcript: readonly TranscriptEntry[], agentId: string, openingCount: number): number {
  return Math.max(0, spokenTurns(transcript, agentId) - openingCount);
}

/** An opening line streamed like a model's turn: two words a chunk, `delayMs` apart, ending with 'stop'. */
export function streamOpening(line: string, opts: { delayMs: number; sleep: Sleep; signal: AbortSignal }): AsyncGenerator<AgentStreamPart> {
  return streamText(line, { delayMs: opts.delayMs, words: 2, sleep: opts.sleep, signal: opts.signal, reason: 'stop' });
}
