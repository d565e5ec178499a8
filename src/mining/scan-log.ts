import { readFileSync } from 'node:fs';
import { ArenaEventSchema, type ArenaEvent } from '../runlog/events.js';
import { formatPath } from '../format-path.js';
import { LogChecker, cutTailWarning, describeLogProblem, noStartProblem } from '../runlog/log-check.js';
import { addEvent, emptySummary, type RunSummary, type SummaryOptions } from './run-summary.js';

const TYPE_KEY = '"type":"';
const SEQ_KEY = '"seq":';

/** The event types no summary or query uses: the bulk of a log, skipped before JSON.parse. */
export const BULK_TYPES: ReadonlySet<string> = new Set(['turn.delta', 'embedding']);

/**
 * Event types whose lines are skipped before JSON.parse: deltas and cached embeddings are the bulk of
 * a log and add nothing a summary uses. The type is peeked at the first `"type":"` of the line, which
 * the arena writes before any nested object; a line it cannot peek is parsed in full.
 */
function skippedTypes(): Set<string> {
  return new Set([...BULK_TYPES, 'turn.started', 'context.trimmed', 'intervention', 'attractor.exited']);
}

function peekType(line: string): string | undefined {
  const at = line.indexOf(TYPE_KEY);
  if (at === -1 || at > 200) return undefined;
  const start = at + TYPE_KEY.length;
  const end = line.indexOf('"', start);
  return end === -1 ? undefined : line.slice(start, end);
}

/** The seq of a line the arena wrote (`{"v":1,"seq":12,…`), read without parsing it; undefined if not there. */
function peekSeq(line: string): number | undefined {
  const at = line.indexOf(SEQ_KEY);
  if (at === -1 || at > 20) return undefined;
  let n = 0;
  let i = at + SEQ_KEY.length;
  const first = i;
  for (; i < line.length; i++) {
    const c = line.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    n = n * 10 + c;
  }
  return i > first && (line[i] === ',' || line[i] === '}') ? n : undefined;
}

/**
 * Walk the lines of one events.jsonl: every readable event goes to `onEvent` with its raw line; every
 * problem is described in the words every reader uses (see LogChecker): unreadable lines, a cut-off last line,
 * seq out of order, and repeated lines or turns, which are left out so that each turn counts once. `skip(type)`
 * says which complete lines may be passed over unparsed (their seq is still checked, their content not:
 * a garbled line of a skipped type goes unreported here); a cut-off last line is always reported, never skipped.
 */
export function scanEvents(text: string, file: string, skip: (type: string) => boolean, onEvent: (e: ArenaEvent, line: string) => void, problems: string[]): void {
  const checker = new LogChecker();
  let offset = 0;
  let lineNo = 0;
  let cut = false;
  while (offset < text.length) {
    lineNo++;
    let nl = text.indexOf('\n', offset);
    const complete = nl !== -1;
    if (!complete) nl = text.length;
    const line = text.slice(offset, nl);
    offset = nl + 1;
    if (line.length === 0) continue;
    const peeked = peekType(line);
    if (complete && peeked !== undefined && skip(peeked)) {
      const seq = peekSeq(line);
      if (seq !== undefined) {
        checker.accept(lineNo, seq, peeked, undefined, line);
        continue;
      }
    }
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      if (line.trim() === '') continue;
      if (complete) checker.unreadable(lineNo, 'not valid JSON');
      else cut = true;
      continue;
    }
    const parsed = ArenaEventSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      checker.unreadable(lineNo, `${formatPath(issue.path) || 'event'}: ${issue.message}`);
      continue;
    }
    const e = parsed.data;
    if (checker.accept(lineNo, e.seq, e.type, e.type === 'turn.completed' ? e.turn : undefined, line)) onEvent(e, line);
  }
  for (const p of checker.problems) problems.push(describeLogProblem(file, p));
  if (cut) problems.push(cutTailWarning(file));
}

export { noStartProblem };

/**
 * Summarise the text of one events.jsonl in a single pass. Like the run-log reader it tolerates a cut-off
 * last line and reports every other unreadable line instead of dropping it silently.
 */
export function summarizeLog(text: string, file: string, options: SummaryOptions): RunSummary {
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
  scanEvents(text, file, (type) => skip.has(type) || (type === 'analysis.turn' && !wantAnalysis && sawAnalysis), onEvent, s.problems);
  if (!s.started) s.problems.push(noStartProblem(file));
  return s;
}

/** Read and summarise one file. Synchronous: a whole-file read is faster than the promise API, and callers run it in workers. */
export function summarizeFile(file: string, options: SummaryOptions): RunSummary {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const s = emptySummary(file);
    s.problems.push(`${file}: skipped: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    return s;
  }
  return summarizeLog(text, file, options);
}
