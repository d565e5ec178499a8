import { stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, relative, sep } from 'node:path';
import type { Logger } from 'pino';
import type { ArenaEvent } from '../runlog/events.js';
import { eventsFileOf, findRunLogs } from '../runlog/layout.js';
import type { LiveStatus } from '../arena/run-handle.js';
import type { RunListEntry } from './protocol.js';
import { LineScanner } from '../runlog/line-scanner.js';
import { readAppended } from '../runlog/read-appended.js';
import { emptyListEntry, foldListEntry, toRunListEntry, type ListEntryState } from './run-list-entry.js';

/** A run not read from the runs dir: attached in this process, or relayed from a queue worker. */
interface LiveEntry {
  state: ListEntryState;
  logPath: string;
  /** Relayed runs: when their last event arrived (their status goes stale like a log on disk). */
  heardMs?: number;
}

interface DiskEntry {
  path: string;
  state: ListEntryState;
  scanner: LineScanner;
  mtimeMs: number;
  size: number;
}

/**
 * The run list: runs attached in this process (folded from their live events) and every events.jsonl
 * at any depth under the runs dir (folded incrementally, a scan reads only what was appended).
 * Changes are reported through `onChange` in batches, at most once per `flush`.
 */
export class RunIndex {
  private readonly disk = new Map<string, DiskEntry>();
  /** Runs attached in this process, running or ended (`state.live` tells), and runs relayed from workers. */
  private readonly live = new Map<string, LiveEntry>();
  private readonly sent = new Map<string, string>();
  private readonly dirty = new Set<string>();
  private scanning: Promise<void> | undefined;
  private warnedDuplicates = new Set<string>();
  /** Listed runs forked from each run, by the parent's id; recounted when a fork or a run comes or goes. */
  private childCounts = new Map<string, number>();
  private forksChanged = false;

  constructor(
    private readonly runsDir: string,
    private readonly logger: Logger,
    private readonly onChange: (runs: RunListEntry[]) => void,
    /** A run on disk without run.finished counts as running while written to within this window. */
    private readonly staleMs = 120_000,
  ) {}

  /** Walk the runs dir and fold what was appended to each log since the last scan. */
  scan(): Promise<void> {
    this.scanning ??= this.scanOnce().finally(() => {
      this.scanning = undefined;
    });
    return this.scanning;
  }

  attachLive(runId: string, runDir: string, info: { scenario: string; agents: { id: string; name: string }[] }): void {
    const logPath = eventsFileOf(runDir);
    const state = emptyListEntry(runId, this.displayDir(runDir), this.batchOf(runDir), true);
    state.scenario = info.scenario;
    state.agents = info.agents.map((a) => ({ id: a.id, name: a.name }));
    this.live.set(runId, { state, logPath });
    this.dirty.add(runId);
    this.forksChanged = true;
  }

  /**
   * A run of another process whose events arrive here (a queue worker's, through Redis): listed like a
   * run of this process (`logPath` is where its log would be, if this machine can see it), never
   * controllable (`live: false`). Listing it again starts its entry afresh.
   */
  attachRelayed(runId: string, runDir: string, batch: string, logPath: string): void {
    const state = emptyListEntry(runId, this.displayDir(runDir), batch, false);
    this.live.set(runId, { state, logPath, heardMs: Date.now() });
    this.dirty.add(runId);
    this.forksChanged = true;
  }

  /** Forget a relayed run (a disk log of the same id, if any, is listed again). */
  dropRelayed(runId: string): void {
    if (this.live.get(runId)?.heardMs === undefined) return;
    this.live.delete(runId);
    this.sent.delete(runId);
    this.dirty.add(runId);
    this.forksChanged = true;
  }

  /** Fold a live event; `status` is the handle's own word on it, when there is a handle. */
  foldLive(runId: string, event: ArenaEvent, status?: LiveStatus): void {
    const entry = this.live.get(runId);
    if (!entry) return;
    if (entry.heardMs !== undefined) entry.heardMs = Date.now();
    if (event.type === 'run.started') this.forksChanged = true;
    let changed = foldListEntry(entry.state, event);
    // The handle knows the status best (a pause takes effect after the turn in flight).
    if (status !== undefined && entry.state.status !== status) {
      entry.state.status = status;
      changed = true;
    }
    if (changed) this.dirty.add(runId);
  }

  setLiveStatus(runId: string, status: LiveStatus): void {
    const entry = this.live.get(runId);
    if (!entry || entry.state.status === status) return;
    entry.state.status = status;
    this.dirty.add(runId);
  }

  /** The run ended: still listed (its folder may lie outside the runs dir), no longer live. */
  detachLive(runId: string): void {
    const entry = this.live.get(runId);
    if (!entry || !entry.state.live) return;
    entry.state.live = false;
    this.dirty.add(runId);
  }

  /** The log file of a run, live or on disk. */
  logPathOf(runId: string): string | undefined {
    const live = this.live.get(runId);
    if (live) return live.logPath;
    return this.visibleDisk().get(runId)?.path;
  }

  list(): RunListEntry[] {
    this.recountChildren();
    const runs = [...this.live.values()].map((e) => this.liveListEntry(e));
    for (const entry of this.visibleDisk().values()) runs.push(this.diskListEntry(entry));
    return runs.sort((a, b) => (b.updatedAt ?? '').localeCompare(a.updatedAt ?? '') || a.runId.localeCompare(b.runId));
  }

  /** Report summaries whose visible fields changed since they were last reported. */
  flush(): void {
    this.recountChildren();
    if (this.dirty.size === 0) return;
    let disk: Map<string, DiskEntry> | undefined;
    const changed: RunListEntry[] = [];
    for (const runId of this.dirty) {
      const live = this.live.get(runId);
      let run: RunListEntry | undefined;
      if (live) run = this.liveListEntry(live);
      else {
        disk ??= this.visibleDisk();
        const entry = disk.get(runId);
        if (entry) run = this.diskListEntry(entry);
      }
      if (!run) continue;
      const sig = signature(run);
      if (this.sent.get(runId) === sig) continue;
      this.sent.set(runId, sig);
      changed.push(run);
    }
    this.dirty.clear();
    if (changed.length > 0) this.onChange(changed);
  }

  /**
   * Count each listed run's children again after a fork (or any run) came or went; a parent whose count
   * changed is reported again. Run-list lines carry the counts, so a fork in progress grows its parent's.
   */
  private recountChildren(): void {
    if (!this.forksChanged) return;
    this.forksChanged = false;
    const counts = new Map<string, number>();
    const states = [...this.live.values()].map((e) => e.state).concat([...this.visibleDisk().values()].map((e) => e.state));
    for (const s of states) if (s.fork) counts.set(s.fork.parentRunId, (counts.get(s.fork.parentRunId) ?? 0) + 1);
    for (const id of new Set([...counts.keys(), ...this.childCounts.keys()])) {
      if (counts.get(id) !== this.childCounts.get(id)) this.dirty.add(id);
    }
    this.childCounts = counts;
  }

  private visibleDisk(): Map<string, DiskEntry> {
    const livePaths = new Set([...this.live.values()].map((e) => e.logPath));
    const byId = new Map<string, DiskEntry>();
    const entries = [...this.disk.values()].sort((a, b) => a.path.localeCompare(b.path));
    for (const entry of entries) {
      const id = entry.state.runId;
      if (livePaths.has(entry.path) || this.live.has(id)) continue;
      if (byId.has(id)) {
        if (!this.warnedDuplicates.has(entry.path)) {
          this.warnedDuplicates.add(entry.path);
          this.logger.warn({ runId: id, path: entry.path }, 'viewer: two run folders share a run id; showing the first');
        }
        continue;
      }
      byId.set(id, entry);
    }
    return byId;
  }

  private diskListEntry(entry: DiskEntry): RunListEntry {
    return this.staled(toRunListEntry(entry.state, this.childCounts.get(entry.state.runId)), entry.state.finished, entry.mtimeMs);
  }

  private liveListEntry(entry: LiveEntry): RunListEntry {
    const summary = toRunListEntry(entry.state, this.childCounts.get(entry.state.runId));
    return entry.heardMs === undefined ? summary : this.staled(summary, entry.state.finished, entry.heardMs);
  }

  private staled(summary: RunListEntry, finished: boolean, lastHeardMs: number): RunListEntry {
    const idle = Date.now() - lastHeardMs > this.staleMs;
    if (!finished && idle && (summary.status === 'running' || summary.status === 'starting')) {
      summary.status = 'unfinished';
    }
    return summary;
  }

  private async scanOnce(): Promise<void> {
    // Attached runs are folded from their live events; reading their logs again would be wasted work.
    const livePaths = new Set([...this.live.values()].map((e) => e.logPath));
    const found = (await findRunLogs([this.runsDir], { skipUnreadable: true })).filter((path) => !livePaths.has(path));
    const seen = new Set(found);
    for (const path of this.disk.keys()) {
      if (!seen.has(path)) {
        this.disk.delete(path);
        this.forksChanged = true;
      }
    }
    for (const path of found) {
      try {
        await this.refresh(path);
      } catch (err) {
        this.logger.warn({ err, path }, 'viewer: cannot read run log');
      }
    }
    for (const entry of this.disk.values()) this.dirty.add(entry.state.runId);
    // Relayed runs go stale by the clock too, without any event to say so.
    for (const [runId, entry] of this.live) if (entry.heardMs !== undefined) this.dirty.add(runId);
  }

  private async refresh(path: string): Promise<void> {
    const info = await stat(path);
    let entry = this.disk.get(path);
    if (entry && entry.size === info.size && entry.mtimeMs === info.mtimeMs) return;
    if (!entry) {
      const runDir = dirname(path);
      entry = {
        path,
        state: emptyListEntry(basename(runDir), this.displayDir(runDir), this.batchOf(runDir), false),
        // Unchecked: a checker keeps every line's bytes, and the list surfaces no warnings.
        scanner: new LineScanner({ check: false }),
        mtimeMs: 0,
        size: 0,
      };
      this.disk.set(path, entry);
    }
    const result = await readAppended(path, entry.scanner);
    if (result.restarted) {
      const { runId, dir, batch } = entry.state;
      entry.state = emptyListEntry(runId, dir, batch, false);
      this.forksChanged = true;
    }
    for (const event of result.events) {
      if (event.type === 'run.started') this.forksChanged = true;
      foldListEntry(entry.state, event);
    }
    entry.scanner = result.scanner;
    entry.size = info.size;
    entry.mtimeMs = info.mtimeMs;
  }

  private displayDir(runDir: string): string {
    const rel = relative(this.runsDir, runDir);
    return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? runDir : rel.split(sep).join('/');
  }

  private batchOf(runDir: string): string | null {
    const rel = relative(this.runsDir, runDir);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return null;
    const parts = rel.split(sep);
    return parts.length >= 2 ? parts.slice(0, -1).join('/') : null;
  }
}

function signature(run: RunListEntry): string {
  return JSON.stringify([run.live, run.status, run.turns, run.scenario, run.attractors, run.seenAttractors, run.onsets, run.cell, run.agents, run.dir, run.fork, run.children]);
}
