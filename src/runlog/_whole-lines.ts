import { fstatSync, ftruncateSync, readSync } from 'node:fs';

/** How the run-log writer writes bytes: `fs.writeSync` unless a test passes one that fails like a full disk. */
export type WriteBytes = (fd: number, buffer: Buffer, offset: number, length: number) => number;

/**
 * Write all of `data` to `fd`. A write may take only part of it when the disk fills up (a short write, no
 * error); the loop then writes the rest, which fails with the real error. Returns the bytes written and,
 * when it stopped short, why.
 */
export function writeAll(write: WriteBytes, fd: number, data: Buffer): { written: number; error?: Error } {
  let written = 0;
  try {
    while (written < data.length) {
      const n = write(fd, data, written, data.length - written);
      if (n <= 0) throw Object.assign(new Error(`a write took ${n} of ${data.length - written} bytes`), { code: 'EIO' });
      written += n;
    }
    return { written };
  } catch (err) {
    return { written, error: err instanceof Error ? err : new Error(String(err)) };
  }
}

/** Cut the file back to `size` bytes. Where it cannot be cut (not a regular file), readers still drop a cut last line. */
export function cutBack(fd: number, size: number): void {
  try {
    ftruncateSync(fd, size);
  } catch {
    // See above.
  }
}

/** The whole lines at the start of a partly written chunk: their length, and the last seq and completed turn among them. */
export function wholeLines(written: Buffer): { bytes: number; lastSeq?: number; lastTurn?: number } {
  const bytes = written.lastIndexOf(0x0a) + 1;
  let lastSeq: number | undefined;
  let lastTurn: number | undefined;
  for (const line of written.toString('utf8', 0, bytes).split('\n')) {
    if (line === '') continue;
    // Lines the writer itself serialised a moment ago: valid JSON events.
    const e = JSON.parse(line) as { seq: number; type: string; turn?: number };
    lastSeq = e.seq;
    if (e.type === 'turn.completed' && e.turn !== undefined) lastTurn = e.turn;
  }
  return { bytes, ...(lastSeq !== undefined ? { lastSeq } : {}), ...(lastTurn !== undefined ? { lastTurn } : {}) };
}

/** One line for people: why the log could not be written, and where it now ends. */
export function failureMessage(error: Error, lastSeq: number, turns: number): string {
  const code = (error as NodeJS.ErrnoException).code;
  const why = code === 'ENOSPC' ? 'the disk is full (ENOSPC)' : code ? `${code}: ${error.message}` : error.message;
  const where = lastSeq === 0 ? 'nothing of the run is in it' : `it ends at turn ${turns} (seq ${lastSeq})`;
  return `cannot write the run log: ${why}; ${where}`;
}

/**
 * A last line that lacks only its newline (cut just there, or saved by an editor) is a whole event the
 * reader keeps; end it, or the next append would run into it and spoil both lines. Returns the file's size.
 * Throws when even that byte does not fit: the log cannot be continued, and opening it fails with why.
 */
export function endLastLine(fd: number, write: WriteBytes): number {
  const size = fstatSync(fd).size;
  if (size === 0) return 0;
  const last = Buffer.alloc(1);
  readSync(fd, last, 0, 1, size - 1);
  if (last[0] === 0x0a) return size;
  const { written, error } = writeAll(write, fd, Buffer.from('\n'));
  if (error || written !== 1) throw error ?? new Error('could not end the last line');
  return size + 1;
}
