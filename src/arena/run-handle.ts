import type { ArenaEvent, RunStatus } from '../runlog/events.js';
import type { SubscribeOptions } from './event-bus.js';
import type { RunCommand } from './observer.js';

/** What `arena run` and friends report; the `--json` line of demo/run/resume. */
export interface RunResult {
  runId: string;
  runDir: string;
  status: RunStatus;
  stopReason: string;
  turns: number;
  /** Why a failed run failed (the error's message), absent otherwise. */
  error?: string;
}

export type LiveStatus = 'starting' | 'running' | 'paused' | RunStatus;

/** A conversation running in this process: watch it, steer it, await its end. */
export interface RunHandle {
  readonly runId: string;
  readonly runDir: string;
  /** Display data for lists: scenario name, agents. */
  readonly info: { scenario: string; agents: { id: string; name: string; backend: string; model: string }[] };
  /**
   * Every event from now on, live deltas included (deltas carry the seq of the last persisted event
   * and an index `i`) unless `deltas: false`. With `afterSeq` (a run that keepsEvents), first the kept
   * events after that seq, synchronously, then the live ones, none missed or repeated. Listeners must
   * not throw or block; returns an unsubscribe function.
   */
  subscribe(listener: (event: ArenaEvent) => void, options?: SubscribeOptions): () => void;
  /**
   * The run keeps its persisted events in memory from seq 1 (startRun's `keepEvents`; embedding vectors and
   * persisted deltas excepted), so `subscribe` can replay them: how a viewer shows it without reading its log.
   */
  readonly keepsEvents: boolean;
  /** Seq of the last event written to the run log. */
  lastSeq(): number;
  status(): LiveStatus;
  send(command: RunCommand): void;
  readonly done: Promise<RunResult>;
}
