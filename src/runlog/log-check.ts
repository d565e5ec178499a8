/**
 * The checks every reader of run logs makes, with one wording: LineScanner applies them for `show`, `analyze`,
 * `resume`, `eval`, `detect fit` (through the reader), `stats`, `query`, `report`, `export` (through the mining
 * scan) and the viewer's tail of a log, so they warn alike and count a turn once.
 */

/** Something wrong with one line of a log. `kept`: the line is read all the same (it is only out of place). */
export interface LogProblem {
  line: number;
  problem: string;
  kept?: boolean;
}

/** The line for stderr (commands prefix `warning: `). */
export function describeLogProblem(file: string, p: LogProblem): string {
  return p.kept ? `${file}:${p.line}: ${p.problem}; the line is kept` : `${file}:${p.line}: skipped: ${p.problem}`;
}

/** The line for a file with no run.started event (empty, garbage, or not a run log): it is not counted as a run. */
export const noStartProblem = (file: string) => `${file}: skipped: no run.started event`;

/** The line for a log whose last line was cut off mid-write. */
export const cutTailWarning = (file: string) => `${file}: the last line was cut off mid-write (a crash?) and was left out`;

/** Every problem of one log, one line each, the cut-off last line last. */
export function describeLog(file: string, problems: readonly LogProblem[], truncatedTail: boolean): string[] {
  const out = problems.map((p) => describeLogProblem(file, p));
  if (truncatedTail) out.push(cutTailWarning(file));
  return out;
}

/** A reported jump in seq, amended when the events it called missing turn up later in the file. */
interface Jump {
  problem: LogProblem;
  from: number;
  to: number;
  missing: number;
  late: number;
}

/**
 * Follows the lines of one log in file order. Seq must increase by one from line to line (a live delta may
 * share the seq before it); a line that repeats an earlier line exactly, or completes a turn already
 * completed, is left out so that the turn counts once; anything else out of order is kept and reported.
 */
export class LogChecker {
  readonly problems: LogProblem[] = [];
  private lastSeq = -1;
  /**
   * Line number and place in the bytes read (chunk, start, end) of the line that carried each seq, indexed by
   * seq. Plain arrays filled in seq order: cheaper per line than a Map or a Buffer view, which the mining scan felt.
   */
  private readonly lineOfSeq: number[] = [];
  private readonly chunkOfSeq: Buffer[] = [];
  private readonly startOfSeq: number[] = [];
  private readonly endOfSeq: number[] = [];
  private readonly turnLine = new Map<number, number>();
  private readonly jumps: Jump[] = [];

  /** A line that is not an event (not JSON, or not valid): left out. */
  unreadable(line: number, problem: string): void {
    this.problems.push({ line, problem });
  }

  /**
   * Check one readable line, `chunk[start, end)` as in the file (the chunk must not change afterwards). `turn`
   * is given for turn.completed lines only. Returns false when the line must be left out (a repeat), true when
   * it is read (with or without a problem reported).
   */
  accept(line: number, seq: number, type: string, turn: number | undefined, chunk: Buffer, start: number, end: number): boolean {
    if (type === 'turn.delta') {
      // Live deltas carry the seq of the event before them; persisted ones have their own.
      if (seq < this.lastSeq) this.problems.push({ line, problem: `seq ${seq} is out of order (after seq ${this.lastSeq})`, kept: true });
      else this.advance(line, seq);
      return true;
    }
    const earlierLine = this.lineOfSeq[seq];
    if (earlierLine !== undefined && this.sameLine(seq, chunk, start, end)) {
      this.problems.push({ line, problem: `repeats line ${earlierLine} (seq ${seq}); counted once` });
      return false;
    }
    if (turn !== undefined) {
      const first = this.turnLine.get(turn);
      if (first !== undefined) {
        this.problems.push({ line, problem: `completes turn ${turn} again (first completed on line ${first}); counted once` });
        return false;
      }
      this.turnLine.set(turn, line);
    }
    if (earlierLine !== undefined) {
      this.problems.push({ line, problem: `seq ${seq} was already used on line ${earlierLine}`, kept: true });
      return true;
    }
    if (seq <= this.lastSeq) this.late(line, seq);
    else this.advance(line, seq);
    this.lineOfSeq[seq] = line;
    this.chunkOfSeq[seq] = chunk;
    this.startOfSeq[seq] = start;
    this.endOfSeq[seq] = end;
    return true;
  }

  private sameLine(seq: number, chunk: Buffer, start: number, end: number): boolean {
    const from = this.startOfSeq[seq]!;
    const to = this.endOfSeq[seq]!;
    return to - from === end - start && this.chunkOfSeq[seq]!.compare(chunk, start, end, from, to) === 0;
  }

  private advance(line: number, seq: number): void {
    const expected = Math.max(this.lastSeq, 0) + 1;
    // A jump right after a line already reported is that line's doing; say it once.
    if (seq > expected && this.problems.at(-1)?.line !== line - 1) {
      const missing = seq - expected;
      const problem: LogProblem = { line, problem: jumpText(expected - 1, seq, missing), kept: true };
      this.problems.push(problem);
      this.jumps.push({ problem, from: expected - 1, to: seq, missing, late: 0 });
    }
    this.lastSeq = seq;
  }

  /** A seq lower than one already read, never seen before: out of order. */
  private late(line: number, seq: number): void {
    this.problems.push({ line, problem: `seq ${seq} is out of order (after seq ${this.lastSeq})`, kept: true });
    const jump = this.jumps.find((j) => j.from < seq && seq < j.to);
    if (!jump) return;
    jump.late++;
    // The events the jump called missing are here after all: say what is true now.
    jump.problem.problem =
      jump.late === jump.missing
        ? `seq jumps from ${jump.from} to ${jump.to}; the events between come later in the file (out of order)`
        : jumpText(jump.from, jump.to, jump.missing - jump.late) + ` (${jump.late} more come later in the file)`;
  }
}

function jumpText(from: number, to: number, missing: number): string {
  return `seq jumps from ${from} to ${to}: ${missing} event${missing > 1 ? 's' : ''} missing before this line`;
}
