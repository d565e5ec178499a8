import { closeSync, fsyncSync, ftruncateSync, mkdir as mkdirCb, mkdirSync, open as openCb, openSync, writeSync } from 'node:fs';
import { mkdir, open as openFile, type FileHandle } from 'node:fs/promises';
import type { ArenaEvent } from './events.js';
import { eventsFileOf } from './layout.js';
import { lockRunDir, lockRunDirAsync, type LockOptions } from './writer-lock.js';
import { RunLogError } from '../errors.js';
import { enqueueOpen } from './_open-queue.js';
import { cutBack, endLastLine, failureMessage, wholeLines, writeAll, type WriteBytes } from './_whole-lines.js';

export type { WriteBytes };

/** Options every way of opening a writer takes. */
export interface WriterOptions {
  /** Replaces `fs.writeSync` (tests: a disk that fills up after N bytes). */
  writeBytes?: WriteBytes;
  /** Seq of the last event already in the log and its last completed turn (a resumed run's). */
  lastSeq?: number;
  turns?: number;
  /** How long the folder's lock may go unrefreshed before another host takes it over (default 30 s). */
  lockStaleMs?: number;
}

/**
 * A write of the log failed (a full disk, an I/O error). The writer then writes nothing more but a closing
 * run.finished: the file ends at its last whole line, and `lastSeq` and `turns` say what it holds.
 */
export interface WriteFailure {
  error: Error;
  /** Seq of the last event on disk (0: none). */
  lastSeq: number;
  /** The last completed turn on disk. */
  turns: number;
  /** One line for people: what failed and where the log now ends. */
  message: string;
}

/**
 * Append-only JSONL writer. Lines are buffered within a turn and written whole at each turn boundary
 * (a single write per flush), so a crash leaves at most one cut-off last line, which the reader tolerates.
 * Every write is checked: a short or failed write is cut back to the last whole line, reported through
 * `failure` and `onFailure`, and nothing after it is written except a closing run.finished that says why.
 */
export class RunLogWriter {
  private fd: number | undefined;
  private buffer = '';
  readonly file: string;
  private readonly writeBytes: WriteBytes;
  /** Bytes of the file on disk, all of them whole lines (known once open). */
  private size = 0;
  /** Seq and turn of the last line on disk, and of the last line buffered. */
  private diskSeq: number;
  private diskTurns: number;
  private bufferedSeq: number;
  private bufferedTurns: number;
  private failed: WriteFailure | undefined;
  /** The folder's lock was taken by another process: not even a closing line may be written now. */
  private lockLost = false;
  private readonly failureListeners: ((failure: WriteFailure) => void)[] = [];
  /** The run.finished appended last: rewritten as the closing line when a write failed. */
  private finishedEvent: ArenaEvent | undefined;
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
  private readonly lockStaleMs: number | undefined;

  private constructor(file: string, options: WriterOptions) {
    this.file = file;
    this.writeBytes = options.writeBytes ?? writeSync;
    this.diskSeq = this.bufferedSeq = options.lastSeq ?? 0;
    this.diskTurns = this.bufferedTurns = options.turns ?? 0;
    this.lockStaleMs = options.lockStaleMs;
  }

  /** Open `<runDir>/events.jsonl` for appending. `validBytes` cuts a crashed tail off before appending. */
  static open(runDir: string, options: { validBytes?: number } & WriterOptions = {}): RunLogWriter {
    const writer = new RunLogWriter(eventsFileOf(runDir), options);
    writer.openSyncNow(runDir, options);
    return writer;
  }

  /** `lock: false` when the caller holds a lock that covers this folder (its batch's). */
  private openSyncNow(runDir: string, options: { validBytes?: number; lock?: boolean }): void {
    mkdirSync(runDir, { recursive: true });
    const unlock = options.lock === false ? () => {} : lockRunDir(runDir, this.file, 'run', this.lockOptions());
    let fd: number | undefined;
    try {
      fd = openSync(this.file, 'a+');
      if (options.validBytes !== undefined) ftruncateSync(fd, options.validBytes);
      this.size = endLastLine(fd, this.writeBytes);
    } catch (err) {
      if (fd !== undefined) closeSync(fd);
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
  static openInBackground(runDir: string, options: { lock?: boolean } & WriterOptions = {}): RunLogWriter {
    const writer = new RunLogWriter(eventsFileOf(runDir), options);
    writer.opening = new Promise<void>((resolve) => {
      const done = (err: unknown, fd?: number) => {
        writer.opening = undefined;
        if (err !== undefined) {
          writer.openError = err;
          return resolve();
        }
        writer.fd = fd;
        // Closed while opening: write what the run produced, then close for real. A write that fails
        // here is reported through `failure` like any other.
        if (writer.closedFlag) writer.closeNow(writer.closeOptions);
        else writer.flush();
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
            unlock = options.lock === false ? () => {} : lockRunDir(runDir, writer.file, 'run', writer.lockOptions());
          } catch (err) {
            return finish(err);
          }
          openCb(writer.file, 'a+', (openErr, fd) => {
            if (openErr) {
              unlock();
              return finish(openErr);
            }
            try {
              writer.size = endLastLine(fd, writer.writeBytes);
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
  static async openAsync(runDir: string, options: { validBytes?: number; expectedBytes?: number; lock?: boolean } & WriterOptions = {}): Promise<RunLogWriter> {
    const writer = new RunLogWriter(eventsFileOf(runDir), options);
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
    const unlock = options.lock === false ? async () => {} : await lockRunDirAsync(runDir, this.file, this.lockOptions());
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
      this.size = endLastLine(handle.fd, this.writeBytes);
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
    if (event.type === 'run.finished') this.finishedEvent = event;
    // After a failed write nothing more goes in: lines after a gap would make the log lie about its turns.
    if (this.failed) return;
    this.buffer += JSON.stringify(event) + '\n';
    this.bufferedSeq = event.seq;
    if (event.type === 'turn.completed') this.bufferedTurns = event.turn;
    if (flush || this.buffer.length > 1 << 16) this.flush();
  }

  /** While the lock is held: if another process takes it, stop writing (see `lose`). */
  private lockOptions(): LockOptions {
    return { onCompromised: (err) => this.lose(err), ...(this.lockStaleMs !== undefined ? { staleMs: this.lockStaleMs } : {}) };
  }

  /**
   * Another process took this folder's lock (or it could not be kept): write nothing more, not even a
   * closing line, and report it like a failed write, so the run stops; the log ends at its last write.
   */
  private lose(error: RunLogError): void {
    this.lockLost = true;
    if (this.failed) return;
    this.buffer = '';
    const where = this.diskSeq === 0 ? 'nothing of the run is in it' : `it ends at turn ${this.diskTurns} (seq ${this.diskSeq})`;
    this.failed = { error, lastSeq: this.diskSeq, turns: this.diskTurns, message: `${error.problem}; ${where}` };
    for (const listener of this.failureListeners) listener(this.failed);
  }

  /** Set once a write failed; nothing but a closing run.finished is written after it. */
  get failure(): WriteFailure | undefined {
    return this.failed;
  }

  /** Called once, when a write fails (never throws into the caller of `append` or `flush`). */
  onFailure(listener: (failure: WriteFailure) => void): void {
    this.failureListeners.push(listener);
  }

  /** For writers used synchronously (import, analyze --write): throws the failure, if a write failed. */
  throwIfFailed(): void {
    if (this.failed) throw new RunLogError(this.file, 0, this.failed.message, { cause: this.failed.error });
  }

  /** Write the buffered lines. A failed write does not throw: see `failure`. */
  flush(): void {
    // Until a background open is done, lines wait in the buffer.
    if (this.fd === undefined || this.buffer === '' || this.failed) return;
    const data = Buffer.from(this.buffer);
    this.buffer = '';
    const written = this.writeWhole(data);
    if (written === data.length) {
      this.diskSeq = this.bufferedSeq;
      this.diskTurns = this.bufferedTurns;
    }
  }

  /** Write `data` whole, or record the failure with the file cut back to its last whole line. */
  private writeWhole(data: Buffer): number {
    const start = this.size;
    const { written, error } = writeAll(this.writeBytes, this.fd!, data);
    this.size += written;
    if (error) this.fail(error, start, data.subarray(0, written));
    return written;
  }

  private fail(error: Error, start: number, written: Buffer): void {
    // Keep the whole lines that made it; cut a partial one, so the log reads as if the process died there.
    const whole = wholeLines(written);
    if (whole.lastSeq !== undefined) this.diskSeq = whole.lastSeq;
    if (whole.lastTurn !== undefined) this.diskTurns = whole.lastTurn;
    this.size = start + whole.bytes;
    cutBack(this.fd!, this.size);
    this.failed = { error, lastSeq: this.diskSeq, turns: this.diskTurns, message: failureMessage(error, this.diskSeq, this.diskTurns) };
    this.buffer = '';
    for (const listener of this.failureListeners) listener(this.failed);
  }

  /**
   * After a failed write, the run's run.finished as the log's last line, if it fits: numbered after the last
   * line on disk, counting the turns on disk, status failed with the reason. Not written to an empty log
   * (a lone run.finished is no run).
   */
  private writeClosingLine(): void {
    const failure = this.failed;
    const finished = this.finishedEvent;
    if (this.lockLost || !failure || !finished || finished.type !== 'run.finished' || failure.lastSeq === 0 || this.fd === undefined) return;
    const closing: ArenaEvent = {
      ...finished,
      seq: failure.lastSeq + 1,
      status: 'failed',
      stopReason: 'log_unwritable',
      turns: failure.turns,
      error: { name: 'RunLogError', message: failure.message },
    };
    const data = Buffer.from(JSON.stringify(closing) + '\n');
    const { written } = writeAll(this.writeBytes, this.fd, data);
    // No room even for this line: the log stops at its last whole turn.
    if (written === data.length) this.size += written;
    else cutBack(this.fd, this.size);
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
    this.writeClosingLine();
    if (options.sync) {
      try {
        fsyncSync(this.fd);
      } catch (err) {
        if (!this.failed) this.fail(err instanceof Error ? err : new Error(String(err)), this.size, Buffer.alloc(0));
      }
    }
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
