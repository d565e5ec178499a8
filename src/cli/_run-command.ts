import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { newRunId, startRun, type StartRunOptions } from '../arena/run.js';
import type { RunObserver } from '../arena/observer.js';
import type { RunHandle, RunResult } from '../arena/run-handle.js';
import type { Scenario } from '../arena/scenario.js';
import { createLogger } from '../logger.js';
import { EXIT, printJson, type CliIO } from './command.js';
import { transcriptPrinter } from './_transcript-printer.js';
import { intFlag, logLevel } from './_args.js';
import { eventsFileOf } from '../runlog/layout.js';
import { enteredAttractors } from '../runlog/entered-attractors.js';
import { ModelCallCache } from '../agents/remote/call-cache.js';
import { InputError } from '../errors.js';

/** Flags shared by demo, run and resume. */
export const RUN_FLAGS = {
  'runs-dir': { type: 'string' },
  'max-turns': { type: 'string' },
  seed: { type: 'string' },
  view: { type: 'boolean' },
  'no-view': { type: 'boolean' },
  port: { type: 'string' },
  host: { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  'persist-deltas': { type: 'boolean' },
  'log-level': { type: 'string' },
  embeddings: { type: 'string' },
  fast: { type: 'boolean' },
  cache: { type: 'string' },
} as const;

export const RUN_FLAGS_HELP = `  --runs-dir DIR     where run folders go (default: runs)
  --max-turns N      override the scenario's turn limit
  --seed N           override the scenario's seed
  --view / --no-view open the live viewer (or not)
  --port P, --host H viewer address (default 127.0.0.1, any free port)
  --json             print one JSON object as the last line of stdout: {runId, runDir, status, stopReason,
                     turns, error?, attractors: [{name, onsetTurn}]} (attractors entered, from the log)
  --quiet            do not print the transcript
  --persist-deltas   also write streamed tokens (turn.delta) to the log
  --fast             scripted agents stream without their pause between chunks
  --cache DIR        record model calls in DIR and answer repeated identical ones from it (no request, cost 0)
  --embeddings K     live embedding analysis: offline | openai | ollama | none (default none; demo: offline)
  --log-level L      operational log level in <run>/arena.log (default info)`;

export interface RunFlagValues {
  'runs-dir'?: string;
  'max-turns'?: string;
  seed?: string;
  view?: boolean;
  'no-view'?: boolean;
  port?: string;
  host?: string;
  json?: boolean;
  quiet?: boolean;
  'persist-deltas'?: boolean;
  'log-level'?: string;
  embeddings?: string;
  fast?: boolean;
  cache?: string;
}

/** The record/replay cache `--cache DIR` names (exit 2 when DIR cannot be written); warnings go to stderr. */
export async function cacheOf(values: { cache?: string | undefined }, io: CliIO): Promise<ModelCallCache | undefined> {
  if (values.cache === undefined) return undefined;
  if (values.cache.trim() === '') throw new InputError('--cache needs a folder');
  return ModelCallCache.open(resolve(io.cwd, values.cache), { label: '--cache', onWarning: (m) => io.stderr.write(`arena: warning: ${m}\n`) });
}

export function runsDirOf(values: RunFlagValues, io: CliIO): string {
  return resolve(io.cwd, values['runs-dir'] ?? io.env.ARENA_RUNS_DIR ?? 'runs');
}

/** Apply --max-turns, --seed and --fast to a scenario. */
export function applyOverrides(scenario: Scenario, values: RunFlagValues): Scenario {
  const maxTurns = intFlag(values['max-turns'], '--max-turns', 1);
  const seed = intFlag(values.seed, '--seed');
  return {
    ...scenario,
    ...(seed !== undefined ? { seed } : {}),
    limits: { ...scenario.limits, ...(maxTurns !== undefined ? { maxTurns } : {}) },
    ...(values.fast
      ? { agents: scenario.agents.map((a) => (a.backend === 'scripted' ? { ...a, generator: { ...a.generator, chunkDelayMs: 0 } } : a)) }
      : {}),
  };
}

/** Hooks later features plug into: live analysis observers, the viewer. */
export interface RunExtras {
  /** Observers for one run. */
  observers?: (
    scenario: Scenario,
    logger: Logger,
    context: { scenarioDir: string; scenarioFile?: string; values: RunFlagValues; env: CliIO['env'] },
  ) => Promise<RunObserver[]>;
  /** Start a viewer on a runs folder before the run begins; the run is attached once it has started. */
  openViewer?: (runsDir: string, values: RunFlagValues, io: CliIO, logger: Logger) => Promise<OpenedViewer | undefined>;
}

/** What executeRun needs of a viewer. */
export interface OpenedViewer {
  /** The address to print, token included. */
  url: string;
  attach(handle: RunHandle): void;
  /** Resolves once a page has connected. */
  whenClientConnects(): Promise<void>;
  close(): Promise<void>;
}

/** How a command wants its run shown. */
export interface ShowOptions {
  /** Open the viewer unless --no-view (the demo); otherwise only with --view. */
  viewByDefault?: boolean;
  /**
   * On a terminal with the viewer open, hold the conversation back until a page connects (Enter starts it at
   * once; it starts anyway after this many ms), so the first visit sees it live. Never waits under --json or
   * without a terminal.
   */
  waitForPageMs?: number;
}

/**
 * Start a run, show it (terminal, viewer), turn Ctrl-C into a graceful stop, and report.
 * Returns the exit code: 0 completed or stopped, 1 failed, 130 interrupted.
 */
export async function executeRun(
  options: Omit<StartRunOptions, 'logger' | 'observers' | 'persistDeltas'>,
  values: RunFlagValues,
  io: CliIO,
  extras: RunExtras = {},
  show: boolean | ShowOptions = false,
): Promise<number> {
  const { viewByDefault = false, waitForPageMs = 0 } = typeof show === 'boolean' ? { viewByDefault: show } : show;
  const { createWriteStream, mkdirSync } = await import('node:fs');
  const { scenario } = options;
  // A folder that cannot be written is bad input, refused before anything starts.
  const cache = await cacheOf(values, io);
  // Known before the run starts, so the viewer's address can name the run the page should show.
  const runId = options.resume?.state.started.runId ?? options.runId ?? newRunId(scenario.name);
  const transcriptOut = values.json ? io.stderr : io.stdout;
  // Operational log next to the events; created once the run folder is known.
  const logLines: string[] = [];
  let logStream: NodeJS.WritableStream | undefined;
  let logOpened = false;
  const logger = createLogger({
    level: logLevel(values['log-level'], '--log-level') ?? logLevel(io.env.ARENA_LOG_LEVEL, 'ARENA_LOG_LEVEL') ?? 'info',
    destination: {
      write(line: string) {
        if (logStream) logStream.write(line);
        else if (!logOpened) logLines.push(line);
        return true;
      },
    } as NodeJS.WritableStream,
  });
  const observers: RunObserver[] = [];
  const names = new Map(scenario.agents.map((a) => [a.id, a.name ?? a.id]));
  if (!values.quiet) {
    observers.push(transcriptPrinter(transcriptOut, { colour: io.isTTY && !values.json, live: io.isTTY && !values.json, names }));
  }
  // Analysis observers load (the offline embedder takes a moment) while the viewer opens and waits.
  const extraObservers = extras.observers
    ? extras.observers(scenario, logger, {
        scenarioDir: options.scenarioDir,
        ...(options.scenarioFile ? { scenarioFile: options.scenarioFile } : {}),
        values,
        env: io.env,
      })
    : Promise.resolve([]);
  extraObservers.catch(() => undefined); // awaited below; this only keeps it from counting as unhandled meanwhile
  const wantView = values['no-view'] ? false : (values.view ?? viewByDefault);
  let viewer: OpenedViewer | undefined;
  if (wantView && extras.openViewer) {
    // A viewer that cannot open must not cost the run.
    try {
      viewer = await extras.openViewer(options.runDir ? resolve(options.runDir, '..') : options.runsDir, values, io, logger);
    } catch (err) {
      io.stderr.write(`viewer: could not start (${err instanceof Error ? err.message : String(err)}); the run goes on without it\n`);
    }
  }
  try {
    if (viewer) {
      // On a line of its own before the first turn, so it neither scrolls away inside the transcript nor gets lost.
      const sep = viewer.url.includes('?') ? '&' : '?';
      transcriptOut.write(`\nviewer: ${viewer.url}${sep}run=${encodeURIComponent(runId)}\n\n`);
      if (waitForPageMs > 0 && io.isTTY && !values.json) await waitForPage(viewer, io, waitForPageMs);
    }
    observers.push(...(await extraObservers));
  } catch (err) {
    // Bad input found while loading the observers: the open viewer must not keep the process alive.
    await viewer?.close();
    throw err;
  }

  let handle: RunHandle;
  try {
    handle = await startRun({
      ...options,
      runId,
      logger,
      observers,
      persistDeltas: values['persist-deltas'] ?? false,
      ...(cache ? { cache } : {}),
      // A viewer shows the run from its memory: history and live events alike, never its log.
      keepEvents: viewer !== undefined,
    });
  } catch (err) {
    await viewer?.close();
    throw err;
  }
  // The operational log is a help, not the record: when it cannot be written (a full disk), the run goes on
  // without it, and the run log's own writes decide how the run ends.
  try {
    mkdirSync(handle.runDir, { recursive: true });
    const stream = createWriteStream(resolve(handle.runDir, 'arena.log'), { flags: 'a' });
    stream.on('error', () => {
      logStream = undefined;
    });
    logStream = stream;
  } catch {
    logStream = undefined;
  }
  logOpened = true;
  for (const line of logLines.splice(0)) logStream?.write(line);
  viewer?.attach(handle);

  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) process.exit(EXIT.interrupted);
    (values.json ? io.stderr : io.stdout).write('\n(stopping: Ctrl-C again to quit at once)\n');
    handle.send({ type: 'stop', by: 'sigint', reason: 'interrupted' });
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  let result: RunResult;
  try {
    result = await handle.done;
    if (viewer && io.isTTY && !values.json && result.status !== 'interrupted') {
      // Keep the page up so the finished run can still be read; Ctrl-C closes it.
      io.stderr.write(`run ${result.status}; the viewer stays open — Ctrl-C to quit\n`);
      await new Promise<void>((r) => {
        process.off('SIGINT', onSigint);
        process.once('SIGINT', () => r());
      });
    }
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    await viewer?.close();
    const open = logStream;
    await new Promise<void>((r) => (open ? open.end(r) : r()));
  }
  if (result.status === 'failed') io.stderr.write(`arena: run ${result.runId} failed (${result.stopReason})${result.error ? `: ${result.error}` : ''}\n`);
  if (values.json) {
    // The attractors its log says it entered, read back from the record the detectors appended to during the
    // run; left out only if the log cannot be read (never passed off as "entered none").
    const attractors = enteredAttractors(eventsFileOf(resolve(result.runDir)));
    printJson(io, { ...result, ...(attractors ? { attractors } : {}) });
  }
  else if (values.quiet) io.stdout.write(`${result.runId} ${result.status} (${result.stopReason}) ${result.turns} turns → ${result.runDir}\n`);
  else io.stdout.write(`run log: ${eventsFileOf(resolve(result.runDir))}\n`);
  return result.status === 'failed' ? EXIT.failed : result.status === 'interrupted' ? EXIT.interrupted : EXIT.ok;
}

/**
 * Hold the start until a page connects to the viewer, Enter is pressed, or `ms` pass. Prints one line saying
 * so, and one saying what started it.
 */
async function waitForPage(viewer: OpenedViewer, io: CliIO, ms: number): Promise<void> {
  const stdin = io.stdin?.isTTY ? io.stdin : undefined;
  io.stdout.write(
    `Open that address to watch it live: the conversation starts when the page connects${stdin ? ' (or press Enter to start now)' : ''}, or in ${Math.round(ms / 1000)} s.\n`,
  );
  let timer: NodeJS.Timeout | undefined;
  let onData: (() => void) | undefined;
  const why = await Promise.race([
    viewer.whenClientConnects().then(() => 'the page connected'),
    new Promise<string>((r) => (timer = setTimeout(() => r('no page yet; starting anyway'), ms))),
    ...(stdin
      ? [
          new Promise<string>((r) => {
            onData = () => r('starting now');
            stdin.once('data', onData);
            stdin.resume();
          }),
        ]
      : []),
  ]);
  clearTimeout(timer);
  if (stdin && onData) {
    stdin.off('data', onData);
    stdin.pause();
  }
  io.stdout.write(`${why}.\n`);
}
