import { open } from 'node:fs/promises';
import type { ArenaEvent } from './events.js';
import { LineScanner } from './line-scanner.js';

const CHUNK = 1 << 20;

/** What one read of a growing log gave. */
export interface AppendedRead {
  /** The events of the lines completed since the last read. */
  events: ArenaEvent[];
  /** The scanner to pass to the next read: a fresh one when the file was read again from its start. */
  scanner: LineScanner;
  /** The file was shorter than what had been read (replaced or cut): it was read again from its start. */
  restarted: boolean;
  /** Size of the file when read (0 when it does not exist yet). */
  size: number;
}

/**
 * Read what was appended to a run log that another process is writing, from where `scanner` got to. Only
 * lines ending in a newline are taken, so a line being written right now is read on the next call. A file
 * that is not there yet reads as empty. Problems are the scanner's (see `scanner.problems`).
 */
export async function readAppended(path: string, scanner: LineScanner): Promise<AppendedRead> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { events: [], scanner, restarted: false, size: 0 };
    throw err;
  }
  try {
    const { size } = await handle.stat();
    const restarted = size < scanner.bytesRead;
    if (restarted) scanner = scanner.fresh();
    const events: ArenaEvent[] = [];
    while (scanner.bytesRead < size) {
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, size - scanner.bytesRead));
      const { bytesRead } = await handle.read(buf, 0, buf.length, scanner.bytesRead);
      if (bytesRead === 0) break;
      scanner.push(buf.subarray(0, bytesRead), (e) => events.push(e));
    }
    return { events, scanner, restarted, size };
  } finally {
    await handle.close();
  }
}
