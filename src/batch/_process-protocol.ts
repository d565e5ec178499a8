import { z } from 'zod';
import { RunStatusSchema } from '../runlog/events.js';

/** Parent → child process of a process pool. */
export const ToChildSchema = z.discriminatedUnion('type', [
  /** A run of the batch manifest, by runId: the child read the manifest once (the message stays small). */
  z.object({ type: z.literal('run'), id: z.number().int(), runId: z.string() }),
  z.object({ type: z.literal('stop'), id: z.number().int() }),
  /**
   * Sent first: the endpoint URLs with credentials that batch.json keeps without them, by place [base
   * scenario index, seat, URL]. They come over IPC because no file may hold them.
   */
  z.object({ type: z.literal('urls'), urls: z.array(z.tuple([z.number().int(), z.number().int(), z.string()])) }),
]);
export type ToChild = z.infer<typeof ToChildSchema>;

export const OutcomeSchema = z.object({
  runId: z.string(),
  runDir: z.string(),
  status: RunStatusSchema,
  stopReason: z.string(),
  turns: z.number(),
  costUsd: z.number(),
  resumed: z.boolean(),
  error: z.string().optional(),
});

/** Child → parent. */
export const FromChildSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  /** Turns completed since the last report, per run: [id, turns, costUsd]. */
  z.object({ type: z.literal('turns'), runs: z.array(z.tuple([z.number().int(), z.number().int(), z.number()])) }),
  z.object({ type: z.literal('prior'), id: z.number().int(), costUsd: z.number() }),
  z.object({ type: z.literal('done'), id: z.number().int(), outcome: OutcomeSchema }),
  z.object({ type: z.literal('error'), id: z.number().int(), message: z.string() }),
]);
export type FromChild = z.infer<typeof FromChildSchema>;

/** The child's observers-module argument when its runs get no live observers. */
export const NO_OBSERVERS = '-';
