import { readFileSync } from 'node:fs';
import type { ArenaEvent } from '../runlog/events.js';
import { LineScanner, type OnEvent } from '../runlog/line-scanner.js';
import { noStartProblem } from '../runlog/log-check.js';
import { addEvent, emptySummary, type RunSummary, type SummaryOptions } from './run-summary.js';

/** The event types no summary or query uses: the bulk of a log, skipped before JSON.parse. */
export const BULK_TYPES: ReadonlySet<string> = new Set(['turn.delta', 'embedding']);

/**
 * Event types whose lines are skipped before JSON.parse: deltas and cached embeddings are the bulk of
 * a log and add nothing a summary uses. The scanner peeks the type (a line it cannot peek is parsed in full).
 */
function skippedTypes(): Set<string> {
  return new Set([...BULK_TYPES, 'turn.started', 'context.trimmed', 'intervention', 'attractor.exited']);
}

/**
 * Walk the lines of one events.jsonl (see LineScanner): every readable event goes to `onEvent` with its raw
 * line; every problem is described in the words every reader uses: unreadable lines, a cut-off last line,
 * seq out of order, and repeated lines or turns, which are left out so that each turn counts once. `skip(type)`
 * says which complete lines may be passed over unparsed (their seq is still checked, their content not:
 * a garbled line of a skipped type goes unreported here); a cut-off last line is always reported, never skipped.
 */
export function scanEvents(content: Buffer | string, file: string, skip: (type: string) => boolean, onEvent: OnEvent, problems: string[]): void {
  const scanner = new LineScanner({ skip });
  scanner.scanAll(typeof content === 'string' ? Buffer.from(content) : content, onEvent);
  problems.push(...scanner.describe(file));
}

/**
 * Summarise the bytes (or text) of one events.jsonl in a single pass. Like the run-log reader it tolerates a cut-off
 * last line and reports every other unreadable line instead of dropping it silently.
 */
export function summarizeLog(content: Buffer | string, file: string, options: SummaryOptions): RunSummary {
  const s = emptySummary(file);
  const skip = skippedTypes();
  // The first analysis.turn is always read: it tells that the run was analysed and which attractors the
  // analysis scored (every turn scores the same ones). Later ones only when scores or a feature are asked for.
  const wantAnalysis = options.scores === true || options.feature !== undefined;
  let sawAnalysis = false;
  const onEvent = (e: ArenaEvent) => {
    if (e.type === 'analysis.turn') sawAnalysis = true;
    addEvent(s, e, options);
  };
  scanEvents(content, file, (type) => skip.has(type) || (type === 'analysis.turn' && !wantAnalysis && sawAnalysis), onEvent, s.problems);
  if (!s.started) s.problems.push(noStartProblem(file));
  return s;
}

/**
 * The bytes of one log, or undefined after saying why not in the words every mining command uses
 * ("…: skipped: cannot read (EACCES)"). Synchronous: a whole-file read is faster than the promise API.
 */
export function readLogBytes(file: string, problem: (line: string) => void): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch (err) {
    problem(`${file}: skipped: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    return undefined;
  }
}

/** Read and summarise one file. Synchronous: a whole-file read is faster than the promise API, and callers run it in workers. */
export function summarizeFile(file: string, options: SummaryOptions): RunSummary {
  const problems: string[] = [];
  const bytes = readLogBytes(file, (line) => problems.push(line));
  if (!bytes) return { ...emptySummary(file), problems };
  return summarizeLog(bytes, file, options);
}
