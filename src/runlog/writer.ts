import { closeSync, fstatSync, fsyncSync, ftruncateSync, mkdir as mkdirCb, mkdirSync, open as openCb, openSync, readSync, writeSync } from 'node:fs';
import { mkdir, open as openFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArenaEvent } from './events.js';
import { EVENTS_FILE } from './reader.js';
import { lockRunDir, lockRunDirAsync } from './writer-lock.js';
import { RunLogError } from '../errors.js';

/**
 * Append-only JSONL writer. Lines are buffered within a turn and written whole at each turn boundary
 * (a single write per flush), so a crash leaves at most one cut-off last line, which the reader tolerates.
 */
export class RunLogWriter {
  private fd: number | undefined;
  private buffer = '';
  readonly file: string;
  /** Held when opened asynchronously, so the descriptor is not closed under us by the handle's collector. */
  private handle: FileHandle | undefined;
  private closedFlag = false;
  /** Releases the run folder's writer lock. */
  private unlock: (() => void | Promise<void>) | undefined;
  private closing: Promise<void> | undefined;
  /** Set while a background open (openInBackground) is under way; settles when it is done or failed. */
  private opening: Promise<void> | undefined;
  private openError: unknown;
  private closeOptions: { sync?: boolean } = {};

  private constructor(file: string, fd: number | undefined) {
    this.file = file;
    this.fd = fd;
  }

  /** Open `<runDir>/events.jsonl` for appending. `validBytes` cuts a crashed tail off before appending. */
  static open(runDir: string, options: { validBytes?: number } = {}): RunLogWriter {
    const writer = new RunLogWriter(join(runDir, EVENTS_FILE), undefined);
    writer.openSyncNow(runDir, options);
    return writer;
  }

  /** `lock: false` when the caller holds a lock that covers this folder (its batch's). */
  private openSyncNow(runDir: string, options: { validBytes?: number; lock?: boolean }): void {
    mkdirSync(runDir, { recursive: true });
    const unlock = options.lock === false ? () => {} : lockRunDir(runDir, this.file);
    let fd: number;
    try {
      fd = openSync(this.file, 'a+');
      if (options.validBytes !== undefined) ftruncateSync(fd, options.validBytes);
      endLastLine(fd);
    } catch (err) {
      unlock();
      throw err;
    }
    this.fd = fd;
    this.unlock = unlock;
  }

  /**
   * A writer for a new run that can be appended to at once, while its folder and file are created on the
   * thread pool: hundreds of runs started together all begin their first turn without waiting for the
   * disk, and none of them blocks the main thread on it (creating a folder or a file took about 0.1 ms
   * each there when many runs started at once). Appends are held until the file is open and then written
   * in order. `ready()` says whether it opened.
   */
  static openInBackground(runDir: string, options: { lock?: boolean } = {}): RunLogWriter {
    const writer = new RunLogWriter(join(runDir, EVENTS_FILE), undefined);
    writer.opening = new Promise<void>((resolve) => {
      const done = (err: unknown, fd?: number) => {
        writer.opening = undefined;
        if (err !== undefined) {
          writer.openError = err;
          return resolve();
        }
        writer.fd = fd;
        try {
          // Closed while opening: write what the run produced, then close for real.
          if (writer.closedFlag) writer.closeNow(writer.closeOptions);
          else writer.flush();
        } catch (writeErr) {
          // A disk full or gone: say so through ready()/closed() rather than throw where nobody listens.
          writer.openError = writeErr;
        }
        resolve();
      };
      // Plain callbacks rather than fs/promises: no FileHandle to create and close per run.
      enqueueOpen((next) => {
        const finish = (err: unknown, fd?: number) => {
          next();
          done(err, fd);
        };
        // A path fs refuses outright (a NUL byte) throws here rather than calling back.
        try {
          mkdirCb(runDir, { recursive: true }, afterMkdir);
        } catch (err) {
          finish(err);
        }
        function afterMkdir(mkdirErr: NodeJS.ErrnoException | null) {
          if (mkdirErr) return finish(mkdirErr);
          let unlock: () => void;
          try {
            unlock = options.lock === false ? () => {} : lockRunDir(runDir, writer.file);
          } catch (err) {
            return finish(err);
          }
          openCb(writer.file, 'a+', (openErr, fd) => {
            if (openErr) {
              unlock();
              return finish(openErr);
            }
            try {
              endLastLine(fd);
            } catch (err) {
              closeSync(fd);
              unlock();
              return finish(err);
            }
            writer.unlock = unlock;
            finish(undefined, fd);
          });
        }
      });
    });
    return writer;
  }

  /**
   * Like `open`, but the folder and file are created off the main thread, so starting hundreds of runs
   * at once does not stall the runs already going. Appends stay synchronous: whole lines, in order.
   */
  static async openAsync(runDir: string, options: { validBytes?: number; expectedBytes?: number; lock?: boolean } = {}): Promise<RunLogWriter> {
    const writer = new RunLogWriter(join(runDir, EVENTS_FILE), undefined);
    await writer.openFile(runDir, options);
    return writer;
  }

  /** Resolves once the file is open; rejects with the reason it could not be (then nothing is written). */
  async ready(): Promise<void> {
    await this.opening;
    if (this.openError !== undefined) throw this.openError;
  }

  private async openFile(runDir: string, options: { validBytes?: number; expectedBytes?: number; lock?: boolean }): Promise<void> {
    await mkdir(runDir, { recursive: true });
    const unlock = options.lock === false ? async () => {} : await lockRunDirAsync(runDir, this.file);
    let handle: FileHandle | undefined;
    try {
      handle = await openFile(this.file, 'a+');
      if (options.expectedBytes !== undefined) {
        // Another process may have written between our reading the log and taking the lock.
        const size = (await handle.stat()).size;
        if (size !== options.expectedBytes) {
          throw new RunLogError(this.file, 0, `the run log changed since it was read (${options.expectedBytes} → ${size} bytes): another process wrote to it; read it again`);
        }
      }
      if (options.validBytes !== undefined) await handle.truncate(options.validBytes);
      if ((await handle.stat()).size > 0) endLastLine(handle.fd);
    } catch (err) {
      await handle?.close();
      await unlock();
      throw err;
    }
    this.fd = handle.fd;
    this.handle = handle;
    this.unlock = unlock;
  }

  append(event: ArenaEvent, flush = false): void {
    if (this.closedFlag) throw new Error(`run log ${this.file} is closed`);
    this.buffer += JSON.stringify(event) + '\n';
    if (flush || this.buffer.length > 1 << 16) this.flush();
  }

  flush(): void {
    // Until a background open is done, lines wait in the buffer.
    if (this.fd === undefined || this.buffer === '') return;
    const data = this.buffer;
    this.buffer = '';
    writeSync(this.fd, data);
  }

  /** Flush, optionally fsync (survives a power cut, not only a killed process), and close. */
  close(options: { sync?: boolean } = {}): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.closeOptions = options;
    // Still opening: the open finishes the job (see openInBackground); closed() waits for it.
    if (this.opening) return;
    this.closeNow(options);
  }

  private closeNow(options: { sync?: boolean }): void {
    if (this.fd === undefined) return;
    this.flush();
    if (options.sync) fsyncSync(this.fd);
    const unlock = this.unlock;
    if (this.handle) this.closing = this.handle.close().then(() => unlock?.());
    else {
      closeSync(this.fd);
      this.closing = Promise.resolve(unlock?.());
    }
    this.fd = undefined;
  }

  /**
   * Resolves when the file is closed and the lock released (appends are written synchronously; this is
   * the descriptor's release). Rejects if a background open failed: then nothing was written.
   */
  async closed(): Promise<void> {
    await this.opening;
    await this.closing;
    if (this.openError !== undefined) throw this.openError;
  }
}

/**
 * Background opens (openInBackground) go two at a time. Each costs the kernel about 0.1 ms (a folder, a
 * file). When hundreds of runs started at once, they all woke thread-pool threads together, which took the
 * cores from the main thread while it started the runs. One at a time was as good for that, but slowed
 * batches of short runs, which wait for their file before they can end (a round trip per step while the
 * main thread is busy): 15,000 instant turns/s against 21,000 with two.
 */
const openQueue: ((next: () => void) => void)[] = [];
let opensInFlight = 0;
const OPENS_AT_ONCE = 2;

function enqueueOpen(job: (next: () => void) => void): void {
  openQueue.push(job);
  pump();
}
function pump(): void {
  while (opensInFlight < OPENS_AT_ONCE && openQueue.length > 0) {
    const job = openQueue.shift()!;
    opensInFlight++;
    let called = false;
    job(() => {
      if (called) return;
      called = true;
      opensInFlight--;
      pump();
    });
  }
}

/**
 * A last line that lacks only its newline (cut just there, or saved by an editor) is a whole event the
 * reader keeps; end it, or the next append would run into it and spoil both lines.
 */
function endLastLine(fd: number): void {
  const size = fstatSync(fd).size;
  if (size === 0) return;
  const last = Buffer.alloc(1);
  readSync(fd, last, 0, 1, size - 1);
  if (last[0] !== 0x0a) writeSync(fd, '\n');
}
