import { z } from 'zod';
import { ArenaEventSchema } from '../runlog/events.js';

/**
 * The viewer's WebSocket protocol (JSON text frames, one message per frame).
 * The server parses every client message with ClientMessageSchema; tests parse every server message
 * with ServerMessageSchema, and the server can do the same at run time (`validateOutgoing`).
 * Fields may be added, never renamed: the browser app and outside scripts speak it.
 */
export const PROTOCOL_VERSION = 1 as const;

const RunId = z.string().min(1).max(300);
/** A client's correlation id, echoed in the reply (ack, error, runs, subscribed, pong). */
const RequestId = z.string().max(64).optional();

/** What a viewer may ask a live run to do; the server adds `by: 'viewer'` before passing it on. */
export const ControlCommandSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('pause') }),
  z.object({ type: z.literal('resume') }),
  z.object({ type: z.literal('stop'), reason: z.string().max(200).optional() }),
  z.object({
    type: z.literal('inject'),
    text: z.string().min(1).max(20_000),
    /** 'narrator' (default) or an agent id. */
    as: z.string().min(1).max(100).optional(),
  }),
  /** Start the next turn of `agentId` (of whoever speaks next when absent) from `text`; the agent continues it. */
  z.object({
    type: z.literal('prefill'),
    text: z.string().min(1).max(20_000),
    agentId: z.string().min(1).max(100).optional(),
  }),
]);
export type ControlCommand = z.infer<typeof ControlCommandSchema>;

export const ClientMessageSchema = z.discriminatedUnion('type', [
  /** Ask for the run list (live runs in this process and finished runs on disk). */
  z.object({ type: z.literal('list'), id: RequestId }),
  /**
   * Receive these runs' events in seq order: first every persisted event with seq > afterSeq (the
   * history, from the run log), then the in-flight turn's deltas, then live events as they happen.
   */
  z.object({
    type: z.literal('subscribe'),
    id: RequestId,
    runs: z
      .array(z.object({ runId: RunId, afterSeq: z.number().int().nonnegative().default(0) }))
      .min(1)
      .max(1000),
  }),
  z.object({ type: z.literal('unsubscribe'), id: RequestId, runIds: z.array(RunId).min(1).max(1000) }),
  /** Application-level heartbeat (browsers cannot send WebSocket pings); answered by pong. */
  z.object({ type: z.literal('ping'), id: RequestId, t: z.number().optional() }),
  /** Steer a live run. Refused unless `token` is the one the server printed at start. */
  z.object({
    type: z.literal('control'),
    id: RequestId,
    runId: RunId,
    token: z.string().max(512).optional(),
    command: ControlCommandSchema,
  }),
]);
export type ClientMessage = z.infer<typeof ClientMessageSchema>;

export const ViewerRunStatusSchema = z.enum([
  'starting',
  'running',
  'paused',
  'completed',
  'stopped',
  'failed',
  'interrupted',
  /** On disk without run.finished and not written to for a while: crashed, killed, or waiting. */
  'unfinished',
]);
export type ViewerRunStatus = z.infer<typeof ViewerRunStatusSchema>;

/** Where a batch run sits in its plan's matrix (from `meta.cell` of run.started), for the batch grid. */
export const GridCellSchema = z.object({
  index: z.number().int().positive().optional(),
  scenario: z.string(),
  /** Model ids by seat, or null when the scenario's own agents play. */
  pairing: z.array(z.string()).nullable(),
  repetition: z.number().int().positive(),
  temperature: z.number().optional(),
});
export type GridCell = z.infer<typeof GridCellSchema>;

/**
 * A forked run's origin (from `meta.fork` of its run.started, read with `forkMetaOf`): the run it was forked
 * from, the last turn copied from that run, its number among the children of that turn and condition, and the
 * condition's label (`resample`, `inject:narrator:…`).
 */
export const RunForkSchema = z.object({
  parentRunId: z.string(),
  atTurn: z.number().int().positive(),
  sample: z.number().int().positive(),
  condition: z.string(),
});
export type RunFork = z.infer<typeof RunForkSchema>;

/** One line of the run list (`runs` and `run` messages). */
export const RunListEntrySchema = z.object({
  runId: RunId,
  /** Folder of the run, relative to the runs dir when inside it. */
  dir: z.string(),
  /** The batch folder for nested runs (`<batchId>/<runId>/events.jsonl`), else null. */
  batch: z.string().nullable(),
  /** Attached to this viewer's process: its events arrive live and it accepts control messages. */
  live: z.boolean(),
  status: ViewerRunStatusSchema,
  scenario: z.string().nullable(),
  agents: z.array(z.object({ id: z.string(), name: z.string() })),
  turns: z.number().int().nonnegative(),
  lastSeq: z.number().int().nonnegative(),
  /** Attractors the run is inside now (entered, not exited). */
  attractors: z.array(z.string()),
  /** Every attractor entered at some point. */
  seenAttractors: z.array(z.string()),
  updatedAt: z.string().nullable(),
  /** Every attractor entered, with the turn of its first onset, in onset order. */
  onsets: z.array(z.object({ attractor: z.string(), turn: z.number().int().nonnegative() })).optional(),
  /** A batch run's place in its plan's matrix; absent for runs outside a batch plan. */
  cell: GridCellSchema.nullable().optional(),
  /** Where a forked run departed from its parent; null for a run that is not a fork. */
  fork: RunForkSchema.nullable().optional(),
  /** How many runs the viewer lists that were forked from this one. */
  children: z.number().int().nonnegative().optional(),
});
export type RunListEntry = z.infer<typeof RunListEntrySchema>;

export const ErrorCodeSchema = z.enum([
  'bad_message',
  'unknown_run',
  'unauthorized',
  'not_controllable',
  'run_finished',
  'internal',
]);
export type ErrorCode = z.infer<typeof ErrorCodeSchema>;

export const ServerMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('hello'), protocol: z.literal(PROTOCOL_VERSION), heartbeatMs: z.number() }),
  z.object({ type: z.literal('runs'), id: RequestId, runs: z.array(RunListEntrySchema) }),
  /** A run appeared or changed (status, turns, attractors); pushed to every client. */
  z.object({ type: z.literal('run'), run: RunListEntrySchema }),
  z.object({
    type: z.literal('subscribed'),
    id: RequestId,
    runId: RunId,
    afterSeq: z.number().int().nonnegative(),
    lastSeq: z.number().int().nonnegative(),
  }),
  /** History is replayed up to lastSeq; what follows is live. */
  z.object({ type: z.literal('replayed'), runId: RunId, lastSeq: z.number().int().nonnegative() }),
  z.object({ type: z.literal('events'), runId: RunId, events: z.array(ArenaEventSchema) }),
  z.object({ type: z.literal('unsubscribed'), id: RequestId, runIds: z.array(RunId) }),
  z.object({ type: z.literal('pong'), id: RequestId, t: z.number().optional() }),
  z.object({ type: z.literal('ack'), id: RequestId, runId: RunId, command: z.string() }),
  z.object({ type: z.literal('error'), id: RequestId, code: ErrorCodeSchema, message: z.string() }),
]);
export type ServerMessage = z.infer<typeof ServerMessageSchema>;

/** Parse one text frame from a client; the error text is safe to send back. */
export function parseClientMessage(
  raw: string,
): { ok: true; message: ClientMessage } | { ok: false; error: string; id?: string } {
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return { ok: false, error: 'not JSON' };
  }
  const parsed = ClientMessageSchema.safeParse(data);
  if (parsed.success) return { ok: true, message: parsed.data };
  const id = typeof data === 'object' && data !== null && 'id' in data && typeof data.id === 'string' ? data.id.slice(0, 64) : undefined;
  const first = parsed.error.issues[0];
  const where = first && first.path.length > 0 ? `${first.path.join('.')}: ` : '';
  return { ok: false, error: `invalid message: ${where}${first?.message ?? 'does not match the protocol'}`, ...(id ? { id } : {}) };
}
