import { readFile } from 'node:fs/promises';
import { ArenaEventSchema, type ArenaEvent } from './events.js';
import { RunLogError } from '../errors.js';
import { formatPath } from '../format-path.js';
import { LogChecker, cutTailWarning, describeLogProblem, type LogProblem } from './log-check.js';

export type { LogProblem } from './log-check.js';

export interface RunLogContents {
  file: string;
  /** The events in file order; a line repeating an earlier one, or completing a turn again, is left out. */
  events: ArenaEvent[];
  /** The last line was cut off mid-write (a crash); it is left out and reported here. */
  truncatedTail: boolean;
  /** Lines other than a truncated tail that are not valid events, repeats, and seq out of order. */
  problems: LogProblem[];
  /** Length in bytes of the readable prefix: where an append after a crash must start. */
  validBytes: number;
  /** Size of the file in bytes when it was read; a writer resuming it checks nothing was appended since. */
  totalBytes: number;
}

/**
 * Parse the bytes (or text) of an events.jsonl file, tolerating a truncated last line. Offsets are counted
 * in bytes of the file, so a last line cut inside a multi-byte character is cut off exactly where it starts.
 */
export function parseRunLog(content: string | Buffer, file: string): RunLogContents {
  const bytes = typeof content === 'string' ? Buffer.from(content) : content;
  const events: ArenaEvent[] = [];
  const checker = new LogChecker();
  let truncatedTail = false;
  let validBytes = 0;
  let offset = 0;
  let lineNo = 0;
  while (offset < bytes.length) {
    lineNo++;
    const nl = bytes.indexOf(0x0a, offset);
    const complete = nl !== -1;
    const end = complete ? nl : bytes.length;
    const line = bytes.toString('utf8', offset, end);
    const lineBytes = (complete ? nl + 1 : bytes.length) - offset;
    offset += lineBytes;
    if (line.trim() === '') {
      validBytes += lineBytes;
      continue;
    }
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      if (!complete) {
        truncatedTail = true;
        break;
      }
      checker.unreadable(lineNo, 'not valid JSON');
      validBytes += lineBytes;
      continue;
    }
    validBytes += lineBytes;
    const parsed = ArenaEventSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      checker.unreadable(lineNo, `${formatPath(issue.path) || 'event'}: ${issue.message}`);
      continue;
    }
    const event = parsed.data;
    if (checker.accept(lineNo, event.seq, event.type, event.type === 'turn.completed' ? event.turn : undefined, line)) events.push(event);
  }
  return { file, events, truncatedTail, problems: checker.problems, validBytes, totalBytes: bytes.length };
}

export async function readRunLog(file: string): Promise<RunLogContents> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new RunLogError(file, 0, code === 'ENOENT' ? 'no such run log' : `cannot read (${code ?? String(err)})`, { cause: err });
  }
  return parseRunLog(bytes, file);
}

/** One line per problem, for commands to print on stderr (the wording every reader shares). */
export function describeProblems(log: RunLogContents): string[] {
  const out = log.problems.map((p) => describeLogProblem(log.file, p));
  if (log.truncatedTail) out.push(cutTailWarning(log.file));
  return out;
}
