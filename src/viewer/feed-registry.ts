import type { Logger } from 'pino';
import { RunFeed, type LiveSource } from './run-feed.js';
import type { RunIndex } from './run-index.js';

/** A run's feed and who holds it: subscribers count, and a live run pins it. */
interface CountedFeed {
  feed: RunFeed;
  /** Subscribers holding it (acquire … release). */
  refs: number;
  /** Held open while a live run is attached, whoever watches. */
  pinned: boolean;
}

/**
 * One feed per run, shared by all viewers: live runs keep theirs for as long as they run; runs on disk
 * are read and followed only while someone is subscribed.
 */
export class FeedRegistry {
  private readonly entries = new Map<string, CountedFeed>();
  /** Disk feeds replaced by a live one while someone still watched them; they run until released. */
  private readonly orphans = new Map<RunFeed, number>();

  constructor(
    private readonly index: RunIndex,
    private readonly logger: Logger,
    /** Poll interval for following logs (fs.watch does the prompt part). */
    private readonly pollMs: number,
  ) {}

  /**
   * A live feed for a run of this process or one relayed from elsewhere. `logPath`: its log, when this
   * machine can read it; read only if the source does not keep the run's events itself (see RunFeed).
   */
  attach(source: LiveSource, options: { logPath?: string } = {}): RunFeed {
    const old = this.entries.get(source.runId);
    if (old && old.refs > 0) this.orphans.set(old.feed, old.refs);
    else old?.feed.dispose();
    const feed = RunFeed.live(source, this.logger.child({ runId: source.runId }), { ...options, pollMs: this.pollMs });
    this.entries.set(source.runId, { feed, refs: 0, pinned: true });
    return feed;
  }

  /** The live run ended; its feed stays while anyone watches, then the log is the source again. */
  unpin(runId: string): void {
    const entry = this.entries.get(runId);
    if (!entry) return;
    entry.pinned = false;
    this.disposeIfUnused(runId, entry);
  }

  /** A feed for a subscriber (release it when done), or undefined for a run nobody knows. */
  async acquire(runId: string): Promise<RunFeed | undefined> {
    let entry = this.entries.get(runId);
    if (!entry) {
      let logPath = this.index.logPathOf(runId);
      if (!logPath) {
        await this.index.scan();
        logPath = this.index.logPathOf(runId);
      }
      if (!logPath) return undefined;
      // Another subscriber may have created it while we scanned.
      entry = this.entries.get(runId);
      if (!entry) {
        entry = { feed: RunFeed.fromLog(runId, logPath, this.logger.child({ runId }), this.pollMs), refs: 0, pinned: false };
        this.entries.set(runId, entry);
      }
    }
    entry.refs += 1;
    return entry.feed;
  }

  release(runId: string, feed: RunFeed): void {
    const orphanRefs = this.orphans.get(feed);
    if (orphanRefs !== undefined) {
      if (orphanRefs <= 1) {
        this.orphans.delete(feed);
        feed.dispose();
      } else this.orphans.set(feed, orphanRefs - 1);
      return;
    }
    const entry = this.entries.get(runId);
    if (!entry || entry.feed !== feed) return;
    entry.refs = Math.max(0, entry.refs - 1);
    this.disposeIfUnused(runId, entry);
  }

  closeAll(): void {
    for (const entry of this.entries.values()) entry.feed.dispose();
    for (const feed of this.orphans.keys()) feed.dispose();
    this.entries.clear();
    this.orphans.clear();
  }

  private disposeIfUnused(runId: string, entry: CountedFeed): void {
    if (entry.refs > 0 || entry.pinned) return;
    entry.feed.dispose();
    this.entries.delete(runId);
  }
}
