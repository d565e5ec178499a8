import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOCK_FILE, lockRunDir, lockRunDirAsync, RunLockedError } from '../../src/runlog/writer-lock.js';
import { RunLogWriter, type WriteFailure } from '../../src/runlog/writer.js';
import { readRunLog } from '../../src/runlog/reader.js';
import { stamp, started, turn } from './_events.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const timers: NodeJS.Timeout[] = [];
afterEach(() => {
  for (const t of timers.splice(0)) clearInterval(t);
});

/** A run folder locked by a writer on another machine that shares the folder (a network mount). */
function lockedByOtherHost(): { dir: string; lock: string } {
  const dir = mkdtempSync(join(tmpdir(), 'arena-netlock-'));
  const lock = join(dir, LOCK_FILE);
  writeFileSync(lock, JSON.stringify({ pid: 4242, host: 'other-host.example', since: new Date().toISOString(), token: 'theirs' }));
  return { dir, lock };
}

/** Refresh the lock as its live holder would: touch it every `everyMs`. Returns the function that stops. */
function keepTouching(lock: string, everyMs: number): () => void {
  const t = setInterval(() => {
    const now = new Date();
    utimesSync(lock, now, now);
  }, everyMs);
  timers.push(t);
  return () => clearInterval(t);
}

const owner = (lock: string) => JSON.parse(readFileSync(lock, 'utf8')) as { pid: number; host: string };

describe('writer lock on a folder shared by several hosts', () => {
  it('does not take a lock that another host keeps refreshing, and names its holder', async () => {
    const { dir, lock } = lockedByOtherHost();
    keepTouching(lock, 50);
    const staleMs = 400;
    // Longer than the stale time, the holder alive all along: refused each time.
    for (let i = 0; i < 4; i++) {
      let refused: unknown;
      try {
        lockRunDir(dir, join(dir, 'events.jsonl'), 'run', { staleMs });
      } catch (err) {
        refused = err;
      }
      expect(refused).toBeInstanceOf(RunLockedError);
      expect((refused as Error).message).toMatch(/being written by process 4242 on host other-host\.example \(its lock .* was refreshed \d+ s ago\); it is taken over once/);
      expect((refused as RunLockedError).retryAfterMs).toBeGreaterThan(0);
      await sleep(150);
    }
    await expect(lockRunDirAsync(dir, join(dir, 'events.jsonl'), { staleMs })).rejects.toThrow(/on host other-host\.example/);
    expect(owner(lock)).toMatchObject({ pid: 4242, host: 'other-host.example' });
  });

  it('takes over a lock of another host once it has not been refreshed for the stale time', async () => {
    const { dir, lock } = lockedByOtherHost();
    const stop = keepTouching(lock, 50);
    await sleep(100);
    expect(() => lockRunDir(dir, join(dir, 'events.jsonl'), 'run', { staleMs: 400 })).toThrow(RunLockedError);
    stop();
    await sleep(500);
    const unlock = lockRunDir(dir, join(dir, 'events.jsonl'), 'run', { staleMs: 400 });
    expect(owner(lock)).toMatchObject({ pid: process.pid });
    unlock();
    // A lock of another host written before locks were refreshed: long unrefreshed, taken at once.
    const old = lockedByOtherHost();
    const hourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(old.lock, hourAgo, hourAgo);
    const release = await lockRunDirAsync(old.dir, join(old.dir, 'events.jsonl'));
    expect(owner(old.lock)).toMatchObject({ pid: process.pid });
    await release();
  });

  it('refreshes its own lock while held, so other hosts see it alive', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'arena-netlock-'));
    const unlock = lockRunDir(dir, join(dir, 'events.jsonl'), 'run', { staleMs: 300 });
    const lock = join(dir, LOCK_FILE);
    const hourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(lock, hourAgo, hourAgo);
    await sleep(400);
    // An hour old before; touched since.
    expect(Date.now() - statSync(lock).mtimeMs).toBeLessThan(60_000);
    unlock();
  });

  it('stops a writer whose lock another process took, with a clear error, and writes nothing more', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'arena-netlock-'));
    const writer = RunLogWriter.open(dir, { lockStaleMs: 300 });
    const failures: WriteFailure[] = [];
    writer.onFailure((f) => failures.push(f));
    const events = stamp([started, ...turn(1, 'a', 'hello'), ...turn(2, 'b', 'there')]);
    for (const e of events.slice(0, 3)) writer.append(e, true);
    // Another writer takes the folder over (a host that judged the lock stale, a person who deleted it).
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: 777, host: 'other-host.example', since: new Date().toISOString(), token: 'theirs' }));
    for (let i = 0; i < 160 && failures.length === 0; i++) await sleep(25);
    expect(failures).toHaveLength(1);
    expect(failures[0]!.message).toMatch(/the lock .* was taken by process 777 on host other-host\.example: stopped writing this run, so that two processes never write one log; it ends at turn 1 \(seq 3\)/);
    expect(() => writer.throwIfFailed()).toThrow(/taken by process 777/);
    for (const e of events.slice(3)) writer.append(e, true);
    writer.close();
    await writer.closed();
    const log = await readRunLog(join(dir, 'events.jsonl'));
    expect(log.events.map((e) => e.seq)).toEqual([1, 2, 3]);
    // The new holder's lock is left alone.
    expect(owner(join(dir, LOCK_FILE))).toMatchObject({ pid: 777 });
  });
});
