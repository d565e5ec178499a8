import type { ArenaEvent, EventBody } from '../runlog/events.js';

/** Commands an operator (CLI, viewer) or an observer (a detector) can send to a running conversation. */
export type RunCommand =
  | { type: 'pause'; by: string }
  | { type: 'resume'; by: string }
  | { type: 'stop'; by: string; reason?: string }
  /** Write a message into the conversation, as the narrator or as a named agent. */
  | { type: 'inject'; by: string; text: string; as?: string }
  /** A detector's perturbation: like inject, recorded as kind 'perturb'. */
  | { type: 'perturb'; by: string; text: string; as?: string }
  /** Start the next turn of `agentId` (of whoever speaks next when absent) from `text`; the agent continues it. */
  | { type: 'prefill'; by: string; text: string; agentId?: string }
  /**
   * A detector (or the live judge: `source: 'judge'`) found an attractor; the run applies the scenario's
   * onAttractor actions. The source shows in what they record: a perturbation `by` `judge:<attractor>`, a
   * stop's stopReason `judge_attractor` instead of `attractor`.
   */
  | { type: 'attractor'; attractor: string; turn: number; source?: 'detector' | 'judge' };

/** What an observer may do to the run it watches. */
export interface RunControl {
  readonly runId: string;
  /** Append an event to the run log (seq, ts, runId are stamped) and to every live subscriber. */
  publish(body: EventBody): ArenaEvent;
  /** Send a command to the conversation machine. */
  send(command: RunCommand): void;
}

/**
 * Something that watches a run's events as they are written: live analysis, a terminal printer.
 * `onEvent` must not block the turn loop; slow work is queued and finished in `flush`.
 */
export interface RunObserver {
  /** Called once before new events, with the events already in the log when resuming (else []). */
  start?(history: readonly ArenaEvent[], control: RunControl): void | Promise<void>;
  onEvent(event: ArenaEvent, control: RunControl): void;
  /** Also receive live turn.delta events (streamed tokens). Off by default: most observers want whole turns. */
  deltas?: boolean;
  /** Finish queued work (publishing its events) before run.finished is written. */
  flush?(): Promise<void>;
}
