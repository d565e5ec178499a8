import { writeSync } from 'node:fs';
import type { WriteBytes } from '../../src/runlog/writer.js';

/** The error a write to a full disk gets from the kernel, as Node reports it. */
export function enospc(): NodeJS.ErrnoException {
  return Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
}

/**
 * A disk with room for `capacity` more bytes, written for real: a write that does not fit writes what fits
 * (a short write, as on a full tmpfs), the next one fails with ENOSPC. `free(n)` makes room again;
 * `roomAfterFailure` is room that appears right after the first ENOSPC (another process deleting files).
 */
export function smallDisk(capacity: number, options: { roomAfterFailure?: number } = {}): { write: WriteBytes; free(bytes: number): void; readonly written: number; readonly failures: number } {
  let room = capacity;
  let written = 0;
  let failures = 0;
  const write: WriteBytes = (fd, buffer, offset, length) => {
    if (room === 0) {
      failures++;
      if (failures === 1) room += options.roomAfterFailure ?? 0;
      throw enospc();
    }
    const n = writeSync(fd, buffer, offset, Math.min(length, room));
    room -= n;
    written += n;
    return n;
  };
  return {
    write,
    free(bytes: number) {
      room += bytes;
    },
    get written() {
      return written;
    },
    get failures() {
      return failures;
    },
  };
}
