import { createActor, waitFor, type Actor } from 'xstate';
import type { Participant } from '../../src/agents/agent.js';
import { conversationMachine, type MachineInput, type TurnInput, type TurnOutput } from '../../src/arena/machine.js';
import type { EventBody } from '../../src/runlog/events.js';

/** One turn the machine asked for, held open until the test settles it. */
export interface PendingTurn {
  input: TurnInput;
  signal: AbortSignal;
  resolve(output: TurnOutput): void;
  reject(error: unknown): void;
}

export function output(text: string, tokens: { input?: number; output?: number } = {}): TurnOutput {
  return {
    text,
    finishReason: 'stop',
    usage: { inputTokens: tokens.input ?? 1, outputTokens: tokens.output ?? 1 },
    costUsd: 0,
    latencyMs: 1,
    attempts: 1,
  };
}

export const AB: Participant[] = [
  { id: 'a', name: 'Ada' },
  { id: 'b', name: 'Bea' },
];

export function machineInput(overrides: Partial<MachineInput> = {}): MachineInput {
  return {
    participants: AB,
    firstIndex: 0,
    policy: 'alternate',
    seed: 1,
    maxTurns: 6,
    endTokens: [],
    onAttractor: [],
    ...overrides,
  };
}

/**
 * The conversation machine with a turn generator the test controls: each turn waits until the test
 * resolves or rejects it (`manual`), or answers at once with `reply(input)` (`auto`).
 */
export function startMachine(input: MachineInput, reply?: (turn: TurnInput) => TurnOutput | Promise<TurnOutput>) {
  const calls: PendingTurn[] = [];
  const waiting: ((p: PendingTurn) => void)[] = [];
  const events: EventBody[] = [];
  const generate = (turnInput: TurnInput, signal: AbortSignal): Promise<TurnOutput> => {
    if (reply) {
      const p: PendingTurn = { input: turnInput, signal, resolve: () => {}, reject: () => {} };
      calls.push(p);
      return Promise.resolve(reply(turnInput));
    }
    return new Promise<TurnOutput>((resolve, reject) => {
      const p: PendingTurn = { input: turnInput, signal, resolve, reject };
      calls.push(p);
      waiting.shift()?.(p);
    });
  };
  const actor = createActor(conversationMachine, { input: { ...input, generate } });
  actor.on('log', (e) => events.push(e.body));
  actor.start();
  let taken = 0;
  return {
    actor,
    calls,
    events,
    /** The next turn asked for (already asked, or the next one to come). */
    nextTurn(): Promise<PendingTurn> {
      const i = taken++;
      if (i < calls.length) return Promise.resolve(calls[i]!);
      return new Promise((r) => waiting.push(r));
    },
    done: () => waitFor(actor, (s) => s.status === 'done', { timeout: 5000 }),
    ofType<T extends EventBody['type']>(type: T): Extract<EventBody, { type: T }>[] {
      return events.filter((e): e is Extract<EventBody, { type: T }> => e.type === type);
    },
  };
}

export type MachineActor = Actor<typeof conversationMachine>;

/** Let promise callbacks (an actor's onDone) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}
