import { join } from 'node:path';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { InputError } from '../../errors.js';
import { timerSleep } from '../../clock.js';
import { RunLockedError } from '../../runlog/writer-lock.js';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ArenaEvent } from '../../runlog/events.js';
import type { RunOutcome } from '../outcome.js';
import { runCell, type RunCellDeps } from '../start-or-resume.js';
import { redisLimiterRegistry } from './redis-limiter.js';
import { CONTROL_PATTERN, ControlMessageSchema, connectionOptions, eventsChannel, JobDataSchema, parseRedisUrl, QUEUE_NAME, type JobData } from './connection.js';

export interface QueueWorkerOptions {
  url: string;
  /** Run logs go to `<runsDir>/<batchId>/<runId>/`. Workers that share it can take over each other's runs. */
  runsDir: string;
  concurrency: number;
  env: Readonly<Record<string, string | undefined>>;
  logger: Logger;
  /**
   * How long a worker's claim on a run lasts without renewal: a worker that dies has its runs taken over
   * by another after about this long (BullMQ lock duration; default 30 s).
   */
  lockMs?: number;
  observersFor?: RunCellDeps['observersFor'];
  /** Called when a run starts or ends here (for the command's output). */
  onRun?: (what: 'start' | 'end', runId: string, outcome?: RunOutcome) => void;
}

export interface QueueWorker {
  /** Interrupt running runs (they are retried, resumed, by another worker) and disconnect. */
  close(): Promise<void>;
  /** Resolves when the connection to Redis is ready. */
  ready: Promise<void>;
}

/** A run was interrupted because this worker is shutting down: throw, so the job goes back for another worker. */
class ShuttingDown extends Error {
  override name = 'ShuttingDown';
}

/**
 * Run `start`; while the run's folder is locked by a worker on another host whose lock is still being
 * refreshed (it died moments ago and its lock has not lapsed yet, or it is still stopping), wait for that
 * lock to lapse and try again rather than fail the run: on a shared network folder, another host's lock
 * is never taken over while it is alive.
 */
async function runWhenUnlocked(start: () => Promise<RunOutcome>, signal: AbortSignal, logger: Logger): Promise<RunOutcome> {
  for (;;) {
    try {
      return await start();
    } catch (err) {
      if (!(err instanceof RunLockedError) || err.retryAfterMs === undefined) throw err;
      logger.warn({ err: err.message }, 'run folder locked by another host: waiting for its lock to lapse');
      await timerSleep(err.retryAfterMs + 500, signal).catch(() => undefined);
      // Not bad input: the job goes back to the queue (an InputError would fail it for good).
      if (signal.aborted) throw new Error(`stopped while waiting for another host's lock on the run folder: ${err.message}`, { cause: err });
    }
  }
}

/**
 * Take runs from the queue and run them here, writing logs under `runsDir`, relaying every event on the
 * batch's pub/sub channel and reporting each completed turn as job progress.
 */
export function startQueueWorker(options: QueueWorkerOptions): QueueWorker {
  const connection = connectionOptions(parseRedisUrl(options.url));
  const publisher = new Redis({ ...connection, enableAutoPipelining: true });
  const subscriber = new Redis(connection);
  // ioredis reconnects by itself; log connection trouble instead of printing it unhandled.
  for (const client of [publisher, subscriber]) client.on('error', (err: Error) => options.logger.warn({ err: err.message }, 'redis connection'));
  const lockDuration = options.lockMs ?? 30_000;
  // One account's limits hold for all the workers of the queue together, not for each: a slot's lease
  // lapses, like a run's claim, about lockMs after its worker died.
  const limiters = redisLimiterRegistry(publisher, { leaseMs: lockDuration });
  const running = new Map<string, AbortController>();
  const byJob = new Map<string, AbortController>();
  let closing = false;

  const processor = async (job: Job<JobData>): Promise<RunOutcome> => {
    const parsed = JobDataSchema.safeParse(job.data);
    if (!parsed.success) throw new Error(`job ${job.id}: not an arena run (${parsed.error.issues[0]?.message})`);
    const { batchId, run } = parsed.data;
    const abort = new AbortController();
    const key = `${batchId}/${run.runId}`;
    running.set(key, abort);
    if (job.id) byJob.set(job.id, abort);
    if (closing) abort.abort('shutdown');
    const channel = eventsChannel(batchId);
    const logger = options.logger.child({ batchId, jobId: job.id });
    options.onRun?.('start', run.runId);
    const deps: RunCellDeps = {
      batchId,
      batchDir: join(options.runsDir, batchId),
      env: options.env,
      logger,
      signal: abort.signal,
      limiters,
      ...(options.observersFor ? { observersFor: options.observersFor } : {}),
      onTurn: (costUsd) => {
        void job.updateProgress({ costUsd }).catch(() => undefined);
      },
      onEvent: (e: ArenaEvent) => {
        void publisher.publish(channel, JSON.stringify(e)).catch(() => undefined);
      },
    };
    try {
      const outcome = await runWhenUnlocked(() => runCell(run, deps), abort.signal, logger);
      if (outcome.status === 'interrupted' && abort.signal.reason === 'shutdown') throw new ShuttingDown(`worker shut down during run ${run.runId}`);
      if (outcome.status === 'interrupted' && abort.signal.reason === 'lost') throw new ShuttingDown(`lost the lock on run ${run.runId}; another worker has it`);
      options.onRun?.('end', run.runId, outcome);
      return outcome;
    } catch (err) {
      // Bad input (a missing key, an unknown file) fails the same way on every attempt: do not retry it.
      if (err instanceof InputError) throw new UnrecoverableError(err.message);
      throw err;
    } finally {
      running.delete(key);
      if (job.id) byJob.delete(job.id);
    }
  };

  const worker = new Worker<JobData, RunOutcome>(QUEUE_NAME, processor, {
    connection,
    concurrency: options.concurrency,
    lockDuration,
    stalledInterval: lockDuration,
    // A run may be taken over more than once (several workers dying); its log keeps it from running twice.
    maxStalledCount: 50,
  });
  worker.on('error', (err) => options.logger.error({ err }, 'worker error'));
  // Our claim lapsed (a long stall, a network split): another worker may take the run over, so stop
  // writing its log at once rather than race it.
  worker.on('lockRenewalFailed', (jobIds) => {
    for (const id of jobIds) byJob.get(id)?.abort('lost');
  });

  subscriber.on('pmessage', (_pattern, channel, message) => {
    const batchId = channel.split(':')[2];
    let json: unknown;
    try {
      json = JSON.parse(message);
    } catch {
      return;
    }
    const msg = ControlMessageSchema.safeParse(json);
    if (msg.success) running.get(`${batchId}/${msg.data.runId}`)?.abort('batch');
  });
  const ready = Promise.all([worker.waitUntilReady(), subscriber.psubscribe(CONTROL_PATTERN)]).then(() => undefined);

  return {
    ready,
    async close() {
      closing = true;
      for (const a of running.values()) a.abort('shutdown');
      await worker.close();
      subscriber.disconnect();
      await publisher.quit().catch(() => publisher.disconnect());
    },
  };
}
