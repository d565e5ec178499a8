import type { RunCommand, RunControl } from '../../src/arena/observer.js';
import type { ArenaEvent, EventBody, TurnCompleted } from '../../src/runlog/events.js';

/** turn.completed events for plain turns, as a run log would hold them. */
export function completedEvents(turns: readonly { turn: number; agentId: string; text: string }[], runId = 'run-1'): TurnCompleted[] {
  return turns.map((t, i) => ({
    v: 1,
    seq: i + 2,
    ts: new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString(),
    runId,
    type: 'turn.completed',
    turn: t.turn,
    agentId: t.agentId,
    text: t.text,
    finishReason: 'stop',
    usage: { inputTokens: 1, outputTokens: 1 },
    costUsd: 0,
    latencyMs: 1,
    attempts: 1,
  }));
}

/**
 * The RunControl a run hands its observers, reduced to what they can see: published events stamped
 * in order, and the commands they sent.
 */
export function recordingControl(runId = 'run-1', firstSeq = 1000): RunControl & { events: ArenaEvent[]; commands: RunCommand[]; bodies(): EventBody[] } {
  const events: ArenaEvent[] = [];
  const commands: RunCommand[] = [];
  let seq = firstSeq;
  return {
    runId,
    events,
    commands,
    publish(body) {
      const event = { v: 1, seq: ++seq, ts: '2025-01-01T00:00:00.000Z', runId, ...body } as ArenaEvent;
      events.push(event);
      return event;
    },
    send(command) {
      commands.push(command);
    },
    bodies() {
      return events.map(({ v: _v, seq: _s, ts: _t, runId: _r, ...body }) => body as EventBody);
    },
  };
}

/**
 * A turn's hand-set signal for an attractor: a calibrated attractor scores the turn with its model and keeps
 * the (gated) signal in `features.signals`; any other attractor's score is its signal.
 */
export function handSetSignal(e: { scores: Record<string, number>; features: Record<string, unknown> }, attractor: string): number {
  const signals = e.features.signals as Record<string, number> | undefined;
  return signals?.[attractor] ?? e.scores[attractor]!;
}
