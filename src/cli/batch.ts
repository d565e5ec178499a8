import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { ArenaError, InputError } from '../errors.js';
import { openBatchLog } from '../batch/_batch-log.js';
import { batchRedactor, EndpointUrls, storedUrl } from '../batch/_credentials.js';
import { DEFAULT_MAX_RUNS, loadPlan } from '../batch/load-plan.js';
import { localExecutor } from '../batch/local-executor.js';
import type { Manifest } from '../batch/manifest.js';
import type { Scenario } from '../arena/scenario.js';
import { openManifest } from '../batch/open-manifest.js';
import { ProgressLine } from '../batch/progress.js';
import { createBatch, runBatch } from '../batch/run-batch.js';
import type { Executor } from '../batch/scheduler.js';
import { EMBEDDINGS_ENV, embeddingsFromEnv, observersFor, RUN_OBSERVERS_MODULE } from '../app/run-observers.js';
import type { WrittenSummary } from '../batch/summary.js';
import { defineCommand, EXIT, printJson, type CliIO } from './command.js';
import { intFlag, logLevel, numberFlag, parse } from './_args.js';
import { lockRunDir, lockStaleMsOf } from '../runlog/writer-lock.js';
import { CACHE_DIR_ENV } from '../agents/remote/call-cache.js';
import { cacheOf } from './_run-command.js';

const usage = `usage: arena batch <plan.yaml> [options]
       arena batch resume <batch folder> [options]
       arena batch collect <batchId> --from DIR [--from DIR …] [--runs-dir DIR]

Run a matrix of conversations: scenarios × pairings × repetitions × parameter values. Runs go to
<runs-dir>/<batchId>/<runId>/events.jsonl; the batch folder holds batch.json (the plan and every
planned cell, written first), batch.log, and summary.json + summary.md (written at the end).
\`resume\` keeps finished runs, continues interrupted or killed ones from their last completed turn
and starts the rest. Exit codes: 0 done, 1 some run failed, 2 bad input, 130 interrupted.

  --runs-dir DIR      where the batch folder goes (default: runs)
  --concurrency N     runs at once (default: the plan's, else 4)
  --budget USD        cost budget (overrides the plan's budget.maxCostUsd)
  --wall-time SEC     stop starting runs and interrupt running ones after SEC (overrides the plan's)
  --processes N       run the batch in N processes (several cores); rate limits are split among them
  --queue URL         put the runs on a BullMQ queue on Redis (redis://host:port) for \`arena worker\`s
  --max-runs N        refuse plans of more than N runs (default ${DEFAULT_MAX_RUNS.toLocaleString('en-US')})
  --plan FILE         (resume) the plan file to read endpoint credentials from, when it has moved
                      (batch.json keeps none; by default they are read from the plan the batch started with)
  --local             (resume) run a queue batch's missing runs here, from its folder
  --from DIR          (collect) a worker's runs dir to gather logs from; repeatable
  --json              print {batchId, batchDir, runs: {planned, completed, failed, skipped}} last on stdout
  --quiet             no progress line
  --log-level L       level of <batch>/batch.log (default info)
  --cache DIR         record model calls in DIR and answer repeated identical ones from it (not with --queue:
                      give the workers ARENA_CACHE_DIR instead)
  --embeddings K      live embedding analysis of every run: offline | openai | ollama | none (default none;
                      not with --queue: give the workers ARENA_EMBEDDINGS=K instead)`;

const FLAGS = {
  'runs-dir': { type: 'string' },
  concurrency: { type: 'string' },
  budget: { type: 'string' },
  'wall-time': { type: 'string' },
  processes: { type: 'string' },
  queue: { type: 'string' },
  from: { type: 'string', multiple: true },
  local: { type: 'boolean' },
  'max-runs': { type: 'string' },
  plan: { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  'log-level': { type: 'string' },
  cache: { type: 'string' },
  embeddings: { type: 'string' },
} as const;

type Values = ReturnType<typeof parse<typeof FLAGS>>['values'];

/** Queue support is loaded only when asked for, so plain batches need no Redis client. */
async function queueExecutor(url: string, manifest: Manifest, logger: Logger): Promise<Executor & { close(): Promise<void> }> {
  const { queueExecutor: make } = await import('../batch/queue/queue-executor.js');
  return make({ url, manifest, logger });
}

function numericFlags(values: Values) {
  return {
    concurrency: intFlag(values.concurrency, '--concurrency', 1),
    budgetUsd: numberFlag(values.budget, '--budget'),
    wallTimeSec: numberFlag(values['wall-time'], '--wall-time'),
    processes: intFlag(values.processes, '--processes', 1),
    maxRuns: intFlag(values['max-runs'], '--max-runs', 1),
  };
}

/** A batch folder that cannot be written (a full disk, no permission) is one line and exit 1, not a crash. */
function unwritable<T>(write: () => T, where: string): T {
  try {
    return write();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (err instanceof ArenaError || typeof code !== 'string') throw err;
    throw new ArenaError(`cannot write the batch under ${where} (${code === 'ENOSPC' ? 'ENOSPC: the disk is full' : code})`, { cause: err });
  }
}

async function execute(manifest: Manifest, batchDir: string, values: Values, io: CliIO): Promise<number> {
  // One process drives a batch at a time: a `batch resume` while the batch still runs would race it run by run.
  // A lock lost while the batch runs (another host took it, the network folder went away) stops the batch
  // as Ctrl-C does: running runs end interrupted and resumable, and the command says why and exits 1.
  const lockLost = new AbortController();
  const unlock = unwritable(
    () => lockRunDir(batchDir, join(batchDir, 'batch.json'), 'batch', { staleMs: lockStaleMsOf(io.env), onCompromised: (err) => lockLost.abort(err) }),
    batchDir,
  );
  try {
    const code = await executeLocked(manifest, batchDir, values, io, lockLost.signal);
    if (!lockLost.signal.aborted) return code;
    const reason = lockLost.signal.reason as Error;
    io.stderr.write(`arena batch: ${reason.message}; \`arena batch resume ${batchDir}\` continues it once no other process is running it\n`);
    return EXIT.failed;
  } finally {
    unlock();
  }
}

/** The scenarios of a manifest as the runs get them (credentials included): bases, or each run's for an old file. */
function scenariosOf(manifest: Manifest): Scenario[] {
  return manifest.v === 2 ? manifest.scenarios.map((s) => s.scenario) : manifest.runs.map((r) => r.scenario);
}

/** Credentials in endpoint URLs would be stored in Redis with each job: refuse, and say what to do instead. */
function refuseQueuedCredentials(scenarios: readonly Scenario[]): void {
  const [first] = EndpointUrls.of(scenarios).entries;
  if (first !== undefined) {
    throw new InputError(
      `--queue: the endpoint ${storedUrl(first[2])} has credentials in its URL, which would be stored in Redis with every job; give the workers the URL in their environment (OPENAI_BASE_URL, ANTHROPIC_BASE_URL, OLLAMA_HOST) and leave baseURL out of the plan`,
    );
  }
}

async function executeLocked(manifest: Manifest, batchDir: string, values: Values, io: CliIO, lockLost: AbortSignal): Promise<number> {
  const redact = batchRedactor(scenariosOf(manifest), io.env);
  const log = openBatchLog(batchDir, logLevel(values['log-level'], '--log-level') ?? logLevel(io.env.ARENA_LOG_LEVEL, 'ARENA_LOG_LEVEL') ?? 'info', redact);
  const queueUrl = values.queue;
  const { processes } = numericFlags(values);
  const pooled =
    !queueUrl && processes !== undefined && processes > 1
      ? await (await import('../batch/process-pool.js')).processPool({ batchId: manifest.batchId, batchDir, processes, env: io.env, batchLocked: true, observersModule: RUN_OBSERVERS_MODULE, urls: EndpointUrls.of(manifest.scenarios.map((s) => s.scenario)), logLevel: logLevel(values['log-level'], '--log-level') ?? logLevel(io.env.ARENA_LOG_LEVEL, 'ARENA_LOG_LEVEL') ?? 'info' })
      : undefined;
  const remote = queueUrl ? await queueExecutor(queueUrl, manifest, log.logger) : pooled;
  const executor = remote ?? localExecutor({ batchId: manifest.batchId, batchDir, env: io.env, logger: log.logger, batchLocked: true, observersFor });
  const progress = values.quiet ? undefined : new ProgressLine(io.stderr, Boolean((io.stderr as NodeJS.WriteStream).isTTY));
  const abort = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) process.exit(EXIT.interrupted);
    io.stderr.write('\n(stopping: running runs are interrupted and can be resumed; Ctrl-C again to quit at once)\n');
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  const onLockLost = () => abort.abort();
  lockLost.addEventListener('abort', onLockLost, { once: true });
  let summary: WrittenSummary;
  try {
    const { concurrency, budgetUsd, wallTimeSec } = numericFlags(values);
    summary = await runBatch(manifest, batchDir, {
      executor,
      ...(concurrency !== undefined ? { concurrency } : {}),
      ...(budgetUsd !== undefined ? { budgetUsd } : {}),
      ...(wallTimeSec !== undefined ? { wallTimeSec } : {}),
      signal: abort.signal,
      ...(progress ? { onProgress: (s) => progress.update(s) } : {}),
      inspectLocal: !queueUrl,
      redact,
    });
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    lockLost.removeEventListener('abort', onLockLost);
    progress?.end();
    await remote?.close();
    await log.close();
  }
  const r = summary.runs;
  const budgetSkips = summary.skipped.filter((s) => s.reason === 'budget').length;
  if (budgetSkips > 0) io.stderr.write(`arena batch: ${budgetSkips} run(s) not started: the cost budget would have been passed (see summary.md)\n`);
  if (summary.stoppedBy === 'wall_time') io.stderr.write(`arena batch: the wall-time limit was reached; \`arena batch resume ${batchDir}\` continues\n`);
  const line = `batch ${summary.batchId}: ${r.completed} completed, ${r.failed} failed, ${r.interrupted} interrupted, ${r.skipped} skipped of ${r.planned} → ${batchDir}`;
  if (values.json) {
    io.stderr.write(`${line}\n`);
    printJson(io, { batchId: summary.batchId, batchDir, runs: { planned: r.planned, completed: r.completed, failed: r.failed, skipped: r.skipped, interrupted: r.interrupted } });
  } else io.stdout.write(`${line}\n${summary.summaryError ? '' : `summary: ${resolve(batchDir, 'summary.md')}\n`}`);
  if (summary.summaryError) io.stderr.write(`arena batch: ${summary.summaryError}\n`);
  if (summary.stoppedBy === 'interrupted') return EXIT.interrupted;
  return r.failed > 0 || summary.summaryError ? EXIT.failed : EXIT.ok;
}

export default defineCommand({
  name: 'batch',
  summary: 'run a matrix of conversations (scenarios × pairings × repetitions × parameters)',
  usage,
  async run(args, given) {
    const { values, positionals } = parse(args, FLAGS, usage);
    // The runs (here or in the process pool's children) find the cache through their environment.
    if (values.cache !== undefined && values.queue) throw new InputError('--cache is for batches run here; with --queue, start the workers with ARENA_CACHE_DIR=<folder>');
    if (values.embeddings !== undefined && values.queue) throw new InputError('--embeddings is for batches run here; with --queue, start the workers with ARENA_EMBEDDINGS=<kind>');
    // Checked here, so a wrong kind is one line before anything is written, not a failure in every run.
    if (values.embeddings !== undefined) embeddingsFromEnv({ [EMBEDDINGS_ENV]: values.embeddings }, '--embeddings');
    const cache = await cacheOf(values, given);
    const io: CliIO = {
      ...given,
      env: {
        ...given.env,
        ...(cache ? { [CACHE_DIR_ENV]: cache.dir } : {}),
        ...(values.embeddings !== undefined ? { [EMBEDDINGS_ENV]: values.embeddings } : {}),
      },
    };
    const numbers = numericFlags(values); // bad numbers are refused before anything is written
    if (numbers.processes !== undefined && values.queue) throw new InputError('--processes is for local batches; with --queue, start more workers');
    if (values.queue) await (await import('../batch/queue/connection.js')).probeRedis(values.queue);
    const runsDir = resolve(io.cwd, values['runs-dir'] ?? io.env.ARENA_RUNS_DIR ?? 'runs');
    if (positionals[0] === 'resume') {
      if (positionals.length !== 2) throw new InputError(`expected one batch folder after resume\n${usage}`);
      const batchDir = resolve(io.cwd, positionals[1]!);
      const manifest = await openManifest(batchDir, values.plan === undefined ? undefined : resolve(io.cwd, values.plan));
      if (manifest.queue && !values.queue && !values.local) {
        throw new InputError(`batch ${manifest.batchId} ran on a queue: pass --queue redis://… to resubmit it, or --local to run what its folder lacks here`);
      }
      if (values.queue) refuseQueuedCredentials(scenariosOf(manifest));
      return execute(manifest, batchDir, values, io);
    }
    if (positionals[0] === 'collect') {
      if (positionals.length !== 2) throw new InputError(`expected one batch id after collect\n${usage}`);
      const { collectBatch } = await import('../batch/collect.js');
      const from = (values.from ?? []).map((d) => resolve(io.cwd, d));
      if (from.length === 0) throw new InputError(`collect needs at least one --from DIR\n${usage}`);
      const result = await collectBatch({ batchId: positionals[1]!, from, runsDir, ...(values.queue ? { queue: values.queue } : {}) });
      const r = result.summary.runs;
      io.stderr.write(`collected ${result.copied} run log(s) into ${result.batchDir}; ${r.completed} completed, ${r.failed} failed, ${result.summary.unknown.length} missing\n`);
      if (result.summary.summaryError) io.stderr.write(`arena batch: ${result.summary.summaryError}\n`);
      if (values.json) printJson(io, { batchId: result.summary.batchId, batchDir: result.batchDir, runs: r, missing: result.summary.unknown });
      return result.summary.unknown.length > 0 || r.failed > 0 || result.summary.summaryError ? EXIT.failed : EXIT.ok;
    }
    if (positionals.length !== 1) throw new InputError(`expected one plan file, got ${positionals.length}\n${usage}`);
    const loaded = await loadPlan(resolve(io.cwd, positionals[0]!), numbers.maxRuns !== undefined ? { maxRuns: numbers.maxRuns } : {});
    for (const w of loaded.warnings) io.stderr.write(`arena batch: warning: ${w}\n`);
    const { QUEUE_NAME } = await import('../batch/queue/connection.js');
    if (values.queue) refuseQueuedCredentials(loaded.bases.map((b) => b.scenario));
    const { manifest, batchDir } = unwritable(() => createBatch(loaded, runsDir, values.queue ? { queue: QUEUE_NAME } : {}), runsDir);
    io.stderr.write(`batch ${manifest.batchId}: ${manifest.runs.length} runs planned → ${batchDir}\n`);
    return execute(manifest, batchDir, values, io);
  },
});
