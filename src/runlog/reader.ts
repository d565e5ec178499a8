import { readFile } from 'node:fs/promises';
import type { ArenaEvent } from './events.js';
import { RunLogError } from '../errors.js';
import { LineScanner } from './line-scanner.js';
import { describeLog, type LogProblem } from './log-check.js';

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
  const scanner = new LineScanner();
  scanner.scanAll(bytes, (e) => events.push(e));
  return { file, events, truncatedTail: scanner.truncatedTail, problems: [...scanner.problems], validBytes: scanner.validBytes, totalBytes: bytes.length };
}

/** The bytes of a run log; a missing or unreadable file is a RunLogError that says which. */
export async function readRunLogBytes(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new RunLogError(file, 0, code === 'ENOENT' ? 'no such run log' : `cannot read (${code ?? String(err)})`, { cause: err });
  }
}

export async function readRunLog(file: string): Promise<RunLogContents> {
  return parseRunLog(await readRunLogBytes(file), file);
}

/** One line per problem, for commands to print on stderr (the wording every reader shares). */
export function describeProblems(log: RunLogContents): string[] {
  return describeLog(log.file, log.problems, log.truncatedTail);
}
