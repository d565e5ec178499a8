import { watch, type FSWatcher } from 'node:fs';
import type { Logger } from 'pino';
import type { ArenaEvent } from '../runlog/events.js';
import { describeLogProblem } from '../runlog/log-check.js';
import { LineScanner } from '../runlog/line-scanner.js';
import { readAppended } from '../runlog/read-appended.js';

/**
 * Follows a run's events.jsonl as another process appends to it. fs.watch gives prompt updates where
 * the platform delivers them; a slow poll catches what it misses (network folders, editors that
 * replace the file, a file that does not exist yet).
 */
export class LogTail {
  private scanner = new LineScanner();
  /** Problems of the scanner already logged. */
  private reported = 0;
  private reading: Promise<void> | undefined;
  private again = false;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    readonly path: string,
    private readonly onEvents: (events: ArenaEvent[]) => void,
    private readonly logger: Logger,
  ) {}

  /** Read everything appended since the last read; concurrent calls share one read and rerun once. */
  readMore(): Promise<void> {
    if (this.reading) {
      this.again = true;
      return this.reading;
    }
    this.reading = (async () => {
      do {
        this.again = false;
        await this.readOnce();
      } while (this.again && !this.closed);
    })().finally(() => {
      this.reading = undefined;
    });
    return this.reading;
  }

  /** Start following the file. */
  follow(pollMs: number): void {
    if (this.closed || this.timer) return;
    this.timer = setInterval(() => void this.readMore(), pollMs);
    this.timer.unref();
    this.startWatcher();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.watcher?.close();
    this.watcher = undefined;
  }

  private startWatcher(): void {
    try {
      this.watcher = watch(this.path, { persistent: false }, () => void this.readMore());
      this.watcher.on('error', () => {
        // The file was removed or the watch broke; polling carries on.
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch {
      // No file yet, or no inotify here: polling alone.
      this.watcher = undefined;
    }
  }

  private async readOnce(): Promise<void> {
    if (this.closed) return;
    let result;
    try {
      result = await readAppended(this.path, this.scanner);
    } catch (err) {
      this.logger.warn({ err, path: this.path }, 'viewer: cannot read run log');
      return;
    }
    if (this.closed) return;
    if (result.restarted) {
      this.logger.warn({ path: this.path }, 'viewer: run log shrank; reading it again from the start');
      this.reported = 0;
    }
    this.scanner = result.scanner;
    const problems = this.scanner.problems;
    for (; this.reported < problems.length; this.reported++) {
      const p = problems[this.reported]!;
      this.logger.warn({ path: this.path, line: p.line, problem: p.problem }, `viewer: ${describeLogProblem(this.path, p)}`);
    }
    if (!this.watcher && !this.closed && this.timer && result.size > 0) this.startWatcher();
    if (result.events.length > 0) this.onEvents(result.events);
  }
}
