import { OutcomeSchema } from '../_process-protocol.js';
import { Queue, QueueEvents, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { manifestText, type Manifest, type ManifestRun } from '../manifest.js';
import type { RunOutcome } from '../outcome.js';
import type { ExecuteContext, Executor } from '../scheduler.js';
import { connectionOptions, controlChannel, jobIdOf, JobProgressSchema, manifestKey, parseRedisUrl, QUEUE_NAME, type JobData } from './connection.js';


/** How often a job is tried when a worker shuts down or throws; a killed worker's job comes back as stalled. */
const ATTEMPTS = 20;

/**
 * Runs planned runs through a BullMQ queue: each becomes a job (id `<batchId>.<runId>`, so a resubmitted
 * batch never queues a run twice) that some `arena worker` takes; this process only waits for the results.
 */
export async function queueExecutor(options: { url: string; manifest: Manifest; logger: Logger }): Promise<Executor & { close(): Promise<void> }> {
  const connection = connectionOptions(parseRedisUrl(options.url));
  const { batchId } = options.manifest;
  const queue = new Queue<JobData>(QUEUE_NAME, { connection });
  const events = new QueueEvents(QUEUE_NAME, { connection });
  const publisher = new Redis(connection);
  publisher.on('error', (err: Error) => options.logger.warn({ err: err.message }, 'redis connection'));
  await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
  await publisher.set(manifestKey(batchId), manifestText(options.manifest));

  const waiting = new Map<string, { settle: (o: RunOutcome) => void; run: ManifestRun; ctx: ExecuteContext }>();
  const failedOutcome = (run: ManifestRun, error: string): RunOutcome => ({ runId: run.runId, runDir: '', status: 'failed', stopReason: 'error', turns: 0, costUsd: 0, resumed: false, error });
  const fromJob = (run: ManifestRun, value: unknown): RunOutcome => {
    const parsed = OutcomeSchema.safeParse(value);
    return parsed.success ? parsed.data : failedOutcome(run, `worker returned an unreadable result: ${parsed.error.issues[0]?.message}`);
  };
  events.on('completed', ({ jobId, returnvalue }) => {
    const w = waiting.get(jobId);
    if (w) w.settle(fromJob(w.run, returnvalue));
  });
  events.on('failed', ({ jobId, failedReason }) => {
    const w = waiting.get(jobId);
    if (w) w.settle(failedOutcome(w.run, failedReason));
  });
  events.on('progress', ({ jobId, data }) => {
    const p = JobProgressSchema.safeParse(data);
    if (p.success) waiting.get(jobId)?.ctx.onTurn(p.data.costUsd);
  });

  return {
    async execute(run, ctx) {
      const jobId = jobIdOf(batchId, run.runId);
      const done = new Promise<RunOutcome>((resolve) => {
        waiting.set(jobId, {
          run,
          ctx,
          settle: (o) => {
            waiting.delete(jobId);
            resolve(o);
          },
        });
      });
      // A resubmitted batch (resume) finds its jobs again: finished ones give their result, interrupted or
      // failed ones are queued afresh (the worker resumes them from their log), running ones are awaited.
      let job: Job<JobData> | undefined = await queue.getJob(jobId);
      if (job) {
        const state = await job.getState();
        const ended = state === 'completed' ? fromJob(run, job.returnvalue) : undefined;
        if (ended && ended.status !== 'interrupted') waiting.get(jobId)?.settle(ended);
        else if (state === 'completed' || state === 'failed') {
          await job.remove();
          job = undefined;
        }
      }
      job ??= await queue.add('run', { batchId, run }, { jobId, attempts: ATTEMPTS, removeOnComplete: false, removeOnFail: false });
      const queued = job;
      const onAbort = () => {
        void (async () => {
          const removed = await queued.remove().then(
            () => true,
            () => false,
          );
          if (removed) {
            waiting.get(jobId)?.settle({ runId: run.runId, runDir: '', status: 'interrupted', stopReason: 'interrupted', turns: 0, costUsd: 0, resumed: false });
          } else {
            await publisher.publish(controlChannel(batchId), JSON.stringify({ type: 'interrupt', runId: run.runId }));
          }
        })().catch((err: unknown) => options.logger.warn({ err, runId: run.runId }, 'could not interrupt a queued run'));
      };
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      try {
        return await done;
      } finally {
        ctx.signal.removeEventListener('abort', onAbort);
      }
    },
    async close() {
      await Promise.allSettled([events.close(), queue.close()]);
      publisher.disconnect();
    },
  };
}
