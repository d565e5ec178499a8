import { ArenaEventSchema, type ArenaEvent } from './events.js';
import { formatPath } from '../format-path.js';
import { LogChecker, describeLog, type LogProblem } from './log-check.js';

/** How a scan reads lines. */
export interface ScanOptions {
  /**
   * Whole lines whose type (peeked, see peekType) this returns true for are passed over unparsed: their
   * seq is still checked, their content not (a garbled line of a skipped type goes unreported).
   */
  skip?: (type: string) => boolean;
  /**
   * Check seq order and leave out repeated lines and turns completed twice (LogChecker); default true.
   * Off, every readable event is handed over and only unreadable lines are problems: the checker keeps
   * each line's bytes, too much for a viewer folding every log of a runs dir.
   */
  check?: boolean;
}

/** Receives each readable event with the text of its line. */
export type OnEvent = (event: ArenaEvent, text: string) => void;

const EMPTY = Buffer.alloc(0);
const NEWLINE = 0x0a;
const TYPE_KEY = Buffer.from('"type":"');
const SEQ_KEY = Buffer.from('"seq":');

/**
 * The one reader of run-log lines: a cursor over the bytes of an events.jsonl, fed in chunks as they are read.
 * Lines are cut at newline bytes, so a multi-byte character split between two reads, or a last line cut inside
 * one, is never decoded half; a line is decoded only to be parsed. A line without its newline yet waits for
 * the next chunk; `end()` says the file ends there, and then it is read if whole or reported as cut off
 * mid-write. Every problem is worded by LogChecker, the same for every command.
 */
export class LineScanner {
  /** Bytes given so far: where the next read of the file starts. */
  bytesRead = 0;
  /** Lines scanned so far (a line waiting for its newline is not counted yet). */
  line = 0;
  /** Length of the readable prefix in bytes: where an append after a crash must start. */
  validBytes = 0;
  /** The last line was cut off mid-write (a crash); it was left out. */
  truncatedTail = false;
  private partial: Buffer = EMPTY;
  private readonly checker = new LogChecker();
  private readonly check: boolean;

  constructor(private readonly options: ScanOptions = {}) {
    this.check = options.check !== false;
  }

  /** Lines other than a cut-off last line that are not valid events, repeats, and seq out of order. */
  get problems(): readonly LogProblem[] {
    return this.checker.problems;
  }

  /** A scanner with the same options, for a file read again from its start. */
  fresh(): LineScanner {
    return new LineScanner(this.options);
  }

  /** Scan the next bytes of the file: every whole line in them; what follows the last newline waits. */
  push(chunk: Buffer, onEvent: OnEvent): void {
    this.bytesRead += chunk.length;
    const data = this.partial.length > 0 ? Buffer.concat([this.partial, chunk]) : chunk;
    let start = 0;
    for (let nl = data.indexOf(NEWLINE, start); nl !== -1; nl = data.indexOf(NEWLINE, start)) {
      this.scanLine(data, start, nl, true, onEvent);
      start = nl + 1;
    }
    // A copy: the unfinished line must not hold on to the whole chunk.
    this.partial = start === data.length ? EMPTY : Buffer.from(data.subarray(start));
  }

  /** The file ends here: the bytes after its last newline are its last line. */
  end(onEvent: OnEvent): void {
    const data = this.partial;
    this.partial = EMPTY;
    if (data.length > 0) this.scanLine(data, 0, data.length, false, onEvent);
  }

  /** Scan the whole of a file's bytes. */
  scanAll(bytes: Buffer, onEvent: OnEvent): void {
    this.push(bytes, onEvent);
    this.end(onEvent);
  }

  /** One line per problem, for stderr (commands prefix `warning: `), the cut-off last line last. */
  describe(file: string): string[] {
    return describeLog(file, this.problems, this.truncatedTail);
  }

  private scanLine(data: Buffer, start: number, end: number, complete: boolean, onEvent: OnEvent): void {
    const lineNo = ++this.line;
    const lineBytes = end - start + (complete ? 1 : 0);
    if (end === start) {
      this.validBytes += lineBytes;
      return;
    }
    const skip = this.options.skip;
    if (complete && skip) {
      const type = peekType(data, start, end);
      const seq = type !== undefined && skip(type) ? peekSeq(data, start, end) : undefined;
      if (seq !== undefined) {
        this.validBytes += lineBytes;
        if (this.check) this.checker.accept(lineNo, seq, type!, undefined, data, start, end);
        return;
      }
    }
    const text = data.toString('utf8', start, end);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      if (text.trim() === '') this.validBytes += lineBytes;
      else if (!complete) this.truncatedTail = true;
      else {
        this.validBytes += lineBytes;
        this.checker.unreadable(lineNo, 'not valid JSON');
      }
      return;
    }
    this.validBytes += lineBytes;
    const parsed = ArenaEventSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      this.checker.unreadable(lineNo, `${formatPath(issue.path) || 'event'}: ${issue.message}`);
      return;
    }
    const e = parsed.data;
    if (!this.check || this.checker.accept(lineNo, e.seq, e.type, e.type === 'turn.completed' ? e.turn : undefined, data, start, end)) onEvent(e, text);
  }
}

/**
 * The type of the event on a line (`bytes[start, end)`), read without parsing it: the first `"type":"`,
 * which the arena writes before any nested object, within the first 200 bytes. Undefined when not there.
 */
export function peekType(bytes: Buffer, start: number, end: number): string | undefined {
  const at = find(bytes, TYPE_KEY, start, Math.min(end, start + 200 + TYPE_KEY.length));
  if (at === -1) return undefined;
  const from = at + TYPE_KEY.length;
  const quote = bytes.indexOf(0x22, from);
  return quote === -1 || quote >= end ? undefined : bytes.toString('utf8', from, quote);
}

/** The seq of a line the arena wrote (`{"v":1,"seq":12,…`), read without parsing it; undefined if not there. */
export function peekSeq(bytes: Buffer, start: number, end: number): number | undefined {
  const at = find(bytes, SEQ_KEY, start, Math.min(end, start + 20 + SEQ_KEY.length));
  if (at === -1) return undefined;
  let n = 0;
  let i = at + SEQ_KEY.length;
  const first = i;
  for (; i < end; i++) {
    const c = bytes[i]! - 48;
    if (c < 0 || c > 9) break;
    n = n * 10 + c;
  }
  const next = bytes[i];
  return i > first && i < end && (next === 0x2c || next === 0x7d) ? n : undefined;
}

/** Where `key` starts within `bytes[start, limit)`, or -1. A loop: cheaper than a subarray per line. */
function find(bytes: Buffer, key: Buffer, start: number, limit: number): number {
  const first = key[0]!;
  const last = limit - key.length;
  outer: for (let i = start; i <= last; i++) {
    if (bytes[i] !== first) continue;
    for (let k = 1; k < key.length; k++) if (bytes[i + k] !== key[k]) continue outer;
    return i;
  }
  return -1;
}
