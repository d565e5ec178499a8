import type { ArenaEvent, RunStatus } from '../runlog/events.js';
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
   * and an index `i`) unless `deltas: false`. Listeners must not throw or block; returns an unsubscribe function.
   */
  subscribe(listener: (event: ArenaEvent) => void, options?: { deltas?: boolean }): () => void;
  /** Seq of the last event written to the run log. */
  lastSeq(): number;
  status(): LiveStatus;
  send(command: RunCommand): void;
  readonly done: Promise<RunResult>;
}
