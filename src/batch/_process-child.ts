import { join } from 'node:path';
import { openBatchLog } from './_batch-log.js';
import { batchRedactor, EndpointUrls } from './_credentials.js';
import { NO_OBSERVERS, ToChildSchema, type FromChild } from './_process-protocol.js';
import { inspectRun, runCell, type RunCellDeps } from './start-or-resume.js';
import { readStoredManifest, resolveManifest, type ManifestRun } from './manifest.js';
import { shareRateLimits } from './process-pool.js';
import { START_GROUP } from './scheduler.js';

/**
 * A child process of a batch's process pool (`arena batch --processes N`): runs the planned runs its
 * parent sends, reporting turns and outcomes over IPC. Arguments: batchId, batchDir, log level, the
 * address of the module that builds each run's observers (or `-` for none), `batch-locked` (the parent
 * holds the batch lock) or `run-locks`, and the number of processes in the pool (each takes that share of
 * every rate limit). Runs come by runId and are looked up in the batch manifest, read once here.
 */
const [batchIdArg, batchDirArg, level, observersModule, locks, processes] = process.argv.slice(2);
if (!batchIdArg || !batchDirArg || !process.send) {
  process.stderr.write('arena batch child: start me through the process pool\n');
  process.exit(2);
}
const batchId: string = batchIdArg;
const batchDir: string = batchDirArg;
// Lines reach batch.log without the credentials of the runs' endpoints and keys (known once 'urls' came).
let redact = batchRedactor([], process.env);
const log = openBatchLog(batchDir, level ?? 'info', (text) => redact(text));
const logger = log.logger.child({ pid: process.pid });
const observersFor = observersModule && observersModule !== NO_OBSERVERS ? importedObserversFor(observersModule) : undefined;
const running = new Map<number, AbortController>();
const stored = readStoredManifest(batchDir);
// Built when the parent's 'urls' message (its first) puts back the credentials batch.json does not keep.
let planned: Map<string, ManifestRun> | undefined;
const plannedRuns = (urls?: EndpointUrls) => {
  const manifest = resolveManifest(stored, urls);
  redact = batchRedactor(manifest.v === 2 ? manifest.scenarios.map((s) => s.scenario) : manifest.runs.map((r) => r.scenario), process.env);
  return new Map(manifest.runs.map((r) => [r.runId, r]));
};
const share = Math.max(1, Number(processes) || 1);
const send = (m: FromChild) => process.send?.(m);

// Turns are reported in batches: one IPC message per turn would cost more than the turn itself.
const unreported = new Map<number, [turns: number, costUsd: number]>();
const report = () => {
  if (unreported.size === 0) return;
  send({ type: 'turns', runs: [...unreported].map(([id, [n, cost]]) => [id, n, cost]) });
  unreported.clear();
};
setInterval(report, 250).unref();

// Runs to start, in the order they came. Many arrive in one read of the channel; they start a group at a
// time with the event loop turning between groups (as the scheduler starts them), so the first runs'
// turns get going before the last are built.
const toStart: { id: number; runId: string }[] = [];
const startSome = () => {
  for (const msg of toStart.splice(0, START_GROUP)) start(msg);
  if (toStart.length > 0) setImmediate(startSome);
};

process.on('message', (raw) => {
  const parsed = ToChildSchema.safeParse(raw);
  if (!parsed.success) return logger.error({ problem: parsed.error.issues[0]?.message }, 'bad message from the batch');
  const msg = parsed.data;
  if (msg.type === 'urls') {
    planned = plannedRuns(new EndpointUrls(msg.urls));
    return;
  }
  if (msg.type === 'stop') {
    const waiting = toStart.findIndex((m) => m.id === msg.id);
    if (waiting < 0) return running.get(msg.id)?.abort();
    const [{ runId }] = toStart.splice(waiting, 1) as [{ id: number; runId: string }];
    void reportUnstarted(msg.id, runId);
    return;
  }
  toStart.push(msg);
  if (toStart.length === 1) setImmediate(startSome);
});

/**
 * The `observersFor` export of the module the parent named, imported when the first run asks for it, so
 * that nothing is awaited before the message handler below listens.
 */
function importedObserversFor(url: string): NonNullable<RunCellDeps['observersFor']> {
  let loaded: Promise<NonNullable<RunCellDeps['observersFor']>> | undefined;
  return async (scenario, runLogger, context) => {
    loaded ??= import(url).then((module: { observersFor?: unknown }) => {
      const make = module.observersFor;
      if (typeof make !== 'function') throw new Error(`${url} has no observersFor export`);
      return (s, l, c) => Promise.resolve(make(s, l, c));
    });
    return (await loaded)(scenario, runLogger, context);
  };
}

/**
 * A run stopped before it started here never will be: it ends as its folder stands. One already finished
 * (a run handed over from a process that died) keeps its outcome; one begun in an earlier invocation is
 * interrupted with the turns and cost it has; a new one is interrupted with nothing done. The batch
 * summary adds these up, as it does for runs that did start.
 */
async function reportUnstarted(id: number, runId: string): Promise<void> {
  const runDir = join(batchDir, runId);
  const interrupted = { runId, runDir, status: 'interrupted' as const, stopReason: 'interrupted', turns: 0, costUsd: 0, resumed: false };
  try {
    const found = await inspectRun(runDir);
    if (found.kind === 'finished') return void send({ type: 'done', id, outcome: found.outcome });
    if (found.kind === 'resumable') {
      return void send({ type: 'done', id, outcome: { ...interrupted, turns: found.state.turn, costUsd: found.state.totals.costUsd, resumed: true } });
    }
  } catch (err) {
    logger.warn({ runId, err: err instanceof Error ? err.message : String(err) }, 'cannot read the log of a run stopped before it started');
  }
  send({ type: 'done', id, outcome: interrupted });
}

function start(msg: { id: number; runId: string }): void {
  planned ??= plannedRuns();
  const run = planned.get(msg.runId);
  if (!run) {
    send({ type: 'error', id: msg.id, message: `run ${msg.runId} is not in the batch manifest of ${batchDir}` });
    return;
  }
  const abort = new AbortController();
  running.set(msg.id, abort);
  runCell(shareRateLimits(run, share), {
    batchId,
    batchDir,
    env: process.env,
    logger,
    signal: abort.signal,
    ...(observersFor ? { observersFor } : {}),
    ...(locks === 'batch-locked' ? { batchLocked: true } : {}),
    onTurn: (costUsd) => {
      const u = unreported.get(msg.id) ?? [0, 0];
      unreported.set(msg.id, [u[0] + 1, u[1] + costUsd]);
    },
    onPriorCost: (costUsd) => send({ type: 'prior', id: msg.id, costUsd }),
  })
    .then(
      (outcome) => {
        report();
        send({ type: 'done', id: msg.id, outcome });
      },
      (err: unknown) => {
        report();
        send({ type: 'error', id: msg.id, message: err instanceof Error ? err.message : String(err) });
      },
    )
    .finally(() => running.delete(msg.id));
}
// The parent going away (killed) ends this process at once, so that nothing writes to the logs while a
// resume may already be reading them; the runs stay resumable from their last completed turn.
process.on('disconnect', () => process.exit(0));
// Ctrl-C reaches the whole process group; the parent decides, and stops runs through 'stop' messages.
process.on('SIGINT', () => undefined);
send({ type: 'ready' });
