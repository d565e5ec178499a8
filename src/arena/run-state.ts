import type { TranscriptEntry } from '../agents/agent.js';
import type { ArenaEvent, RunFinished, RunStarted } from '../runlog/events.js';
import { RunLogError } from '../errors.js';

/** Where a run stands according to its log: enough to continue it from its last completed turn. */
export interface RunState {
  started: RunStarted;
  lastSeq: number;
  /** Last completed turn. */
  turn: number;
  transcript: TranscriptEntry[];
  lastSpeakerId: string | undefined;
  totals: { inputTokens: number; outputTokens: number; costUsd: number; failedAttempts: number };
  /** The last run.finished, if the run ended (a resumed run may have ended more than once). */
  finished: RunFinished | undefined;
}

/** Rebuild a run's state from its events (in seq order). Turns are taken once each, in order. */
export function runState(events: readonly ArenaEvent[], file: string): RunState {
  const started = events.find((e): e is RunStarted => e.type === 'run.started');
  if (!started) throw new RunLogError(file, 1, 'no run.started event: not a run log, or written by something else');
  const names = new Map(started.agents.map((a) => [a.id, a.name]));
  const nameOf = (id: string) => (id === 'narrator' ? 'Narrator' : (names.get(id) ?? id));
  const state: RunState = {
    started,
    lastSeq: 0,
    turn: 0,
    transcript: [],
    lastSpeakerId: undefined,
    totals: { inputTokens: 0, outputTokens: 0, costUsd: 0, failedAttempts: 0 },
    finished: undefined,
  };
  for (const e of events) {
    if (e.type !== 'turn.delta') state.lastSeq = Math.max(state.lastSeq, e.seq);
    switch (e.type) {
      case 'turn.completed':
        if (e.turn !== state.turn + 1) {
          throw new RunLogError(file, 0, `turn ${e.turn} follows turn ${state.turn} (seq ${e.seq}): turns are missing or repeated`);
        }
        state.turn = e.turn;
        state.lastSpeakerId = e.agentId;
        state.transcript.push({ turn: e.turn, speakerId: e.agentId, speaker: nameOf(e.agentId), text: e.text, kind: 'turn' });
        state.totals.inputTokens += e.usage.inputTokens;
        state.totals.outputTokens += e.usage.outputTokens;
        state.totals.costUsd += e.costUsd;
        break;
      case 'turn.failed':
        state.totals.failedAttempts++;
        break;
      case 'intervention':
        if ((e.kind === 'inject' || e.kind === 'perturb') && e.text !== undefined) {
          const as = e.as ?? 'narrator';
          state.transcript.push({ turn: e.turn, speakerId: as, speaker: nameOf(as), text: e.text, kind: e.kind });
        }
        break;
      case 'run.finished':
        state.finished = e;
        break;
      case 'run.resumed':
        state.finished = undefined;
        break;
      default:
        break;
    }
  }
  return state;
}
