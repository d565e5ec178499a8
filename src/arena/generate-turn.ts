import type { Logger } from 'pino';
import type { Agent, AgentStreamOptions } from '../agents/agent.js';
import type { Sampling } from '../agents/agent.js';
import { AbortedError, AgentError, describeError } from '../errors.js';
import type { EventBus } from './event-bus.js';
import type { TurnInput, TurnOutput } from './machine.js';
import type { Sleep } from '../clock.js';
import { nextOpening, streamOpening } from '../agents/openings.js';

/** A speaker of the scenario: its Agent and the scenario's settings for its turns. */
export interface SpeakerSetup {
  agent: Agent;
  sampling: Sampling;
  stop: string[];
  openings: string[];
  /** Pace for streaming opening lines. */
  chunkDelayMs: number;
  /** Every generated turn of this agent starts with this text (the agent spec's `prefill`). */
  prefill?: string;
}

/**
 * Prefills asked for one turn only: the next turn of an agent (or of whoever speaks next). `take` hands
 * out, and forgets, the one for the turn that is starting.
 */
export class PendingPrefills {
  private pending: { agentId: string | undefined; text: string }[] = [];

  /** Prefill the next turn of `agentId` (of whoever speaks next when absent); replaces one asked for the same. */
  add(text: string, agentId?: string): void {
    this.pending = [...this.pending.filter((p) => p.agentId !== agentId), { agentId, text }];
  }

  take(agentId: string): string | undefined {
    const i = this.pending.findIndex((p) => p.agentId === agentId || p.agentId === undefined);
    if (i < 0) return undefined;
    const [found] = this.pending.splice(i, 1);
    return found!.text;
  }
}

export interface GenerateDeps {
  /** By agent id. */
  speakers: ReadonlyMap<string, SpeakerSetup>;
  participants: AgentStreamOptions['participants'];
  bus: EventBus;
  seed: number;
  now: () => number;
  sleep: Sleep;
  logger: Logger;
  /** One-off prefills (run start options, the viewer); they win over the speaker's own. */
  prefills?: PendingPrefills;
}

/**
 * An agent's final failure that is already in the log (its turn.failed was written when the stream reported
 * it), so whoever catches it records nothing more. Its name stays 'AgentError': run.finished names the
 * failure by what failed, not by where it was recorded.
 */
export class RecordedAgentError extends AgentError {}

/** How often a turn that has produced nothing yet says it is still waiting (turn.waiting, live only). */
const WAITING_EVERY_MS = 1000;

/**
 * Generate one turn: stream the agent, pass tokens to the bus as deltas, record every failed attempt and
 * every trim, and return the whole turn. A final failure or an abort is recorded as turn.failed and thrown.
 */
export async function generateTurn(input: TurnInput, signal: AbortSignal, deps: GenerateDeps): Promise<TurnOutput> {
  const speaker = deps.speakers.get(input.speaker.id);
  if (!speaker) throw new AgentError(`no agent '${input.speaker.id}'`);
  const { bus } = deps;
  const turn = input.turn;
  const agentId = input.speaker.id;
  const started = deps.now();
  const opening = nextOpening(speaker.openings, input.transcript, agentId);
  // An opening line is said verbatim: nothing to continue.
  const prefill = opening !== undefined ? undefined : deps.prefills?.take(agentId) || speaker.prefill || undefined;
  // A child logger per turn costs more than a scripted turn: made only when something is logged.
  const log = () => deps.logger.child({ agentId, turn });
  const stream =
    opening !== undefined
      ? streamOpening(opening, { delayMs: speaker.chunkDelayMs, sleep: deps.sleep, signal })
      : speaker.agent.stream({
          transcript: input.transcript,
          self: input.speaker,
          participants: deps.participants,
          turn,
          signal,
          sampling: speaker.sampling,
          stop: speaker.stop,
          seed: deps.seed,
          ...(prefill !== undefined ? { prefill } : {}),
        });
  // A prefilled turn is the prefill followed by what the agent writes; live listeners see the prefill first.
  let text = prefill ?? '';
  if (prefill !== undefined) bus.delta({ turn, agentId, text: prefill });
  let thinking = '';
  let attempt = 1;
  // Until the current attempt yields something, say so every second: a hung provider must not look idle.
  let attemptStarted = started;
  let heard = false;
  const beat = setInterval(() => {
    if (heard || signal.aborted) return;
    const t = deps.now();
    bus.waiting({ turn, agentId, attempt, elapsedMs: Math.max(0, t - started), attemptElapsedMs: Math.max(0, t - attemptStarted) });
  }, WAITING_EVERY_MS);
  beat.unref();
  try {
    for await (const part of stream) {
      if (signal.aborted) throw new AbortedError('the run was stopped during this turn');
      switch (part.type) {
        case 'text-delta':
          heard = true;
          text += part.text;
          bus.delta({ turn, agentId, text: part.text });
          break;
        case 'thinking-delta':
          heard = true;
          thinking += part.text;
          bus.delta({ turn, agentId, text: part.text, channel: 'thinking' });
          break;
        case 'context-trimmed':
          bus.publish({
            type: 'context.trimmed',
            turn,
            agentId,
            droppedTurns: part.droppedTurns,
            ...(part.estimatedTokens !== undefined ? { estimatedTokens: part.estimatedTokens } : {}),
            ...(part.contextWindow !== undefined ? { contextWindow: part.contextWindow } : {}),
          });
          break;
        case 'error': {
          bus.publish({
            type: 'turn.failed',
            turn,
            agentId,
            attempt: part.attempt,
            error: describeError(part.error),
            willRetry: part.willRetry,
            ...(text ? { partialText: text } : {}),
          });
          log().warn({ attempt: part.attempt, error: describeError(part.error), willRetry: part.willRetry }, 'attempt failed');
          if (!part.willRetry) {
            const info = describeError(part.error);
            throw new RecordedAgentError(`${agentId}: ${info.message}`, { agentId, ...(info.status ? { status: info.status } : {}) });
          }
          // The next attempt streams the turn from the start (from the prefill, shown again).
          text = prefill ?? '';
          if (prefill !== undefined) bus.delta({ turn, agentId, text: prefill });
          thinking = '';
          attempt = part.attempt + 1;
          attemptStarted = deps.now();
          heard = false;
          break;
        }
        case 'finish':
          if (deps.logger.isLevelEnabled('debug')) log().debug({ finishReason: part.reason, usage: part.usage, chars: text.length }, 'turn completed');
          return {
            text,
            finishReason: part.reason,
            usage: part.usage,
            costUsd: part.costUsd ?? 0,
            latencyMs: Math.max(0, deps.now() - started),
            attempts: part.attempts ?? attempt,
            ...(thinking ? { thinking } : {}),
            ...(part.replay ? { replay: true as const } : {}),
            ...(prefill !== undefined ? { prefill } : {}),
          };
        default: {
          const never: never = part;
          throw new AgentError(`unknown stream part ${JSON.stringify(never)}`);
        }
      }
    }
    throw new AgentError(`${agentId}: the stream ended without finishing the turn`, { agentId });
  } catch (err) {
    if (err instanceof RecordedAgentError) throw err;
    const aborted = signal.aborted;
    const error = aborted ? new AbortedError('the run was stopped during this turn') : err;
    if (aborted) log().info('turn cut short by a stop');
    else log().warn({ error: describeError(error) }, 'turn failed');
    bus.publish({
      type: 'turn.failed',
      turn,
      agentId,
      attempt,
      error: describeError(error),
      willRetry: false,
      ...(text ? { partialText: text } : {}),
      ...(aborted ? { aborted: true as const } : {}),
    });
    throw error;
  } finally {
    clearInterval(beat);
  }
}
