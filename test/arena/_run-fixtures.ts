import type { Agent, AgentStreamOptions, AgentStreamPart } from '../../src/agents/agent.js';
import type { Sleep } from '../../src/clock.js';
import { AbortedError } from '../../src/errors.js';
import { ScenarioSchema, type Scenario, type ScenarioInput } from '../../src/arena/scenario.js';

/** Two scripted agents saying fixed lines; `over` changes anything else. */
export function scriptScenario(over: Partial<ScenarioInput> = {}, generator: Record<string, unknown> = {}): Scenario {
  return ScenarioSchema.parse({
    name: 'runner-test',
    seed: 5,
    agents: [
      { id: 'a', name: 'Ada', backend: 'scripted', generator: { kind: 'script', lines: ['alpha one two', 'alpha three four'], loop: true, ...generator } },
      { id: 'b', name: 'Bea', backend: 'scripted', generator: { kind: 'script', lines: ['beta one two', 'beta three four'], loop: true, ...generator } },
    ],
    limits: { maxTurns: 4 },
    ...over,
  });
}

/**
 * A sleep the test releases by hand (one pending sleep at a time), rejecting at once when its signal
 * aborts, as the real one does.
 */
export function gatedSleep() {
  const pending: { resolve(): void }[] = [];
  const waiters: (() => void)[] = [];
  let calls = 0;
  const sleep: Sleep = (_ms, signal) =>
    new Promise<void>((resolve, reject) => {
      calls++;
      if (signal?.aborted) return reject(new AbortedError('aborted'));
      pending.push({ resolve });
      signal?.addEventListener('abort', () => reject(new AbortedError('aborted')), { once: true });
      waiters.splice(0).forEach((w) => w());
    });
  return {
    sleep,
    get calls() {
      return calls;
    },
    /** Resolves once some stream is blocked in a sleep. */
    blocked(): Promise<void> {
      if (pending.length > 0) return Promise.resolve();
      return new Promise((r) => waiters.push(r));
    },
    release(): void {
      pending.splice(0).forEach((p) => p.resolve());
    },
  };
}

/** An agent whose stream is written by the test, one function per call. */
export function handAgent(id: string, stream: (options: AgentStreamOptions, call: number) => AsyncIterable<AgentStreamPart>): Agent {
  let call = 0;
  return { id, name: id, backend: 'test', model: 'hand', stream: (o) => stream(o, ++call) };
}

/** An agent that says `text` in one piece. */
export async function* say(text: string): AsyncGenerator<AgentStreamPart> {
  yield { type: 'text-delta', text };
  yield { type: 'finish', reason: 'stop', usage: { inputTokens: 1, outputTokens: 1 } };
}

/** An agent stream that never finishes on its own: it waits for its signal and then throws. */
export async function* hang(signal: AbortSignal): AsyncGenerator<AgentStreamPart> {
  yield { type: 'text-delta', text: 'thinking about' };
  await new Promise<void>((_, reject) => signal.addEventListener('abort', () => reject(new AbortedError('aborted')), { once: true }));
}
