import { describe, expect, it } from 'vitest';
import { runState } from '../../src/arena/run-state.js';
import { RunLogError } from '../../src/errors.js';
import { finished, stamp, started, turn } from '../runlog/_events.js';

describe('runState', () => {
  it('rebuilds the transcript in order with injections and perturbations, and the totals', () => {
    const events = stamp([
      started,
      { type: 'intervention', turn: 0, kind: 'inject', by: 'op', text: 'Begin.' },
      ...turn(1, 'a', 'one', 3),
      { type: 'intervention', turn: 1, kind: 'pause', by: 'op' },
      { type: 'intervention', turn: 1, kind: 'inject', by: 'op', text: 'I object.', as: 'b' },
      { type: 'turn.failed', turn: 2, agentId: 'b', attempt: 1, error: { name: 'E', message: 'm' }, willRetry: true },
      ...turn(2, 'b', 'two', 5),
      { type: 'intervention', turn: 2, kind: 'perturb', by: 'detector:x', text: 'Volcanoes!', as: 'narrator' },
      { type: 'turn.started', turn: 3, agentId: 'a' },
    ]);
    const state = runState(events, 'f');
    expect(state.transcript).toEqual([
      { turn: 0, speakerId: 'narrator', speaker: 'Narrator', text: 'Begin.', kind: 'inject' },
      { turn: 1, speakerId: 'a', speaker: 'Ada', text: 'one', kind: 'turn' },
      { turn: 1, speakerId: 'b', speaker: 'Bea', text: 'I object.', kind: 'inject' },
      { turn: 2, speakerId: 'b', speaker: 'Bea', text: 'two', kind: 'turn' },
      { turn: 2, speakerId: 'narrator', speaker: 'Narrator', text: 'Volcanoes!', kind: 'perturb' },
    ]);
    // An unfinished turn 3 is not a turn.
    expect(state.turn).toBe(2);
    expect(state.lastSpeakerId).toBe('b');
    expect(state.lastSeq).toBe(events.length);
    expect(state.totals).toEqual({ inputTokens: 8, outputTokens: 8, costUsd: 0.02, failedAttempts: 1 });
    expect(state.started.runId).toBe('r1');
    expect(state.finished).toBeUndefined();
  });

  it('knows whether the run finished, and that a resume reopened it', () => {
    const once = stamp([started, ...turn(1, 'a', 'x'), ...turn(2, 'b', 'y'), finished]);
    expect(runState(once, 'f').finished).toMatchObject({ status: 'completed', stopReason: 'max_turns' });
    const reopened = stamp([started, ...turn(1, 'a', 'x'), finished, { type: 'run.resumed', fromTurn: 1, truncatedTail: false }, ...turn(2, 'b', 'y')]);
    const state = runState(reopened, 'f');
    expect(state.finished).toBeUndefined();
    expect(state.turn).toBe(2);
  });

  it('ignores live deltas when tracking the last seq', () => {
    const events = stamp([started, ...turn(1, 'a', 'x')]);
    const delta = { v: 1 as const, seq: 99, ts: events[0]!.ts, runId: 'r1', type: 'turn.delta' as const, turn: 2, agentId: 'b', text: 'y' };
    expect(runState([...events, delta], 'f').lastSeq).toBe(3);
  });

  it('refuses a log with a repeated or missing turn, naming the file', () => {
    const repeated = stamp([started, ...turn(1, 'a', 'x'), ...turn(1, 'a', 'x')]);
    expect(() => runState(repeated, 'log.jsonl')).toThrow(RunLogError);
    expect(() => runState(repeated, 'log.jsonl')).toThrow(/log\.jsonl.*turn 1 follows turn 1/);
    const gap = stamp([started, ...turn(1, 'a', 'x'), ...turn(3, 'a', 'z')]);
    expect(() => runState(gap, 'log.jsonl')).toThrow(/turn 3 follows turn 1/);
  });

  it('refuses events without run.started', () => {
    expect(() => runState(stamp(turn(1, 'a', 'x')), 'log.jsonl')).toThrow(/no run.started/);
  });
});
