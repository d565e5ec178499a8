import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { findRunLogs } from '../runlog/layout.js';
import type { RunSummary, SummaryOptions } from './run-summary.js';
import { summarizeFile } from './scan-log.js';
import type { WorkerRequest } from './summarize-worker.js';

const BATCH = 16;
/** Below this many files a worker costs more to start than it saves. */
const MIN_FILES_FOR_WORKERS = 64;

/** The compiled worker next to this module; absent when running from TypeScript sources (tests). */
function workerFile(): string | undefined {
  if (!import.meta.url.endsWith('.js')) return undefined;
  const path = fileURLToPath(new URL('./summarize-worker.js', import.meta.url));
  return existsSync(path) ? path : undefined;
}

async function inWorkers(files: string[], options: SummaryOptions, threads: number, script: string, onSummary: (s: RunSummary) => void): Promise<RunSummary[]> {
  const out = new Array<RunSummary>(files.length);
  let next = 0;
  const runOne = () =>
    new Promise<void>((resolvePromise, reject) => {
      // The parent's flags (e.g. --input-type from `node -e`) do not apply to a worker file.
      const worker = new Worker(script, { execArgv: [] });
      const feed = () => {
        if (next >= files.length) {
          worker.postMessage({ done: true } satisfies WorkerRequest);
          return;
        }
        const start = next;
        next += BATCH;
        worker.postMessage({ files: files.slice(start, start + BATCH), start, options } satisfies WorkerRequest);
      };
      worker.on('message', (msg: { start: number; summaries: RunSummary[] }) => {
        msg.summaries.forEach((s, i) => {
          out[msg.start + i] = s;
          onSummary(s);
        });
        feed();
      });
      worker.on('error', reject);
      worker.on('exit', () => resolvePromise());
      feed();
    });
  await Promise.all(Array.from({ length: threads }, runOne));
  return out;
}

/** How loadRuns works: thread count, and a hook that sees each summary as soon as it is ready. */
export interface LoadOptions {
  threads?: number;
  /** Called once per run, in completion order (e.g. to fold word counts and drop them early). */
  onSummary?: (s: RunSummary) => void;
}

/**
 * Summarise every run log under the given folders; the result follows the sorted file list. Large sets
 * are spread over worker threads (one per core by default); small ones are read in this thread.
 */
export async function loadRuns(paths: readonly string[], options: SummaryOptions, load: LoadOptions = {}): Promise<RunSummary[]> {
  return loadRunFiles(await findRunLogs(paths), options, load);
}

/** loadRuns for a list of events.jsonl files already found (result in the same order). */
export async function loadRunFiles(files: string[], options: SummaryOptions, load: LoadOptions = {}): Promise<RunSummary[]> {
  const threads = load.threads ?? availableParallelism();
  const onSummary = load.onSummary ?? (() => {});
  const script = workerFile();
  if (script && threads > 1 && files.length >= MIN_FILES_FOR_WORKERS) return inWorkers(files, options, threads, script, onSummary);
  return files.map((f) => {
    const s = summarizeFile(f, options);
    onSummary(s);
    return s;
  });
}
