import type { RunStatus } from '../runlog/events.js';
import type { Cell } from './expand.js';

/** How one planned run ended, as the batch accounts for it. */
export interface RunOutcome {
  runId: string;
  runDir: string;
  status: RunStatus;
  stopReason: string;
  turns: number;
  /** Cost of all its turns, across resumes. */
  costUsd: number;
  /** This invocation continued it from an earlier one. */
  resumed: boolean;
  error?: string;
}

/**
 * A planned run that did not start, and why: budget, wall_time, interrupted, or parent_ended (a fork whose
 * parent in the batch ended before the fork turn: it can never start).
 */
export interface SkippedRun {
  runId: string;
  cell: Cell;
  reason: 'budget' | 'wall_time' | 'interrupted' | 'parent_ended';
}
