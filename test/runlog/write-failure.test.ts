import { readFileSync, symlinkSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRunLog } from '../../src/runlog/reader.js';
import { RunLogWriter, type WriteFailure } from '../../src/runlog/writer.js';
import { smallDisk } from '../helpers/full-disk.js';
import { tempDir } from '../helpers/tmp-dir.js';
import { finished, stamp, started, turn } from './_events.js';

/** run.started, four turns and run.finished, as the bus stamps them (seq 1 … 10). */
const EVENTS = stamp([started, ...turn(1, 'a', 'hello there'), ...turn(2, 'b', 'hi 🌀 again'), ...turn(3, 'a', 'third'), ...turn(4, 'b', 'fourth'), { ...finished, turns: 4 }]);
const lineBytes = (i: number) => Buffer.byteLength(JSON.stringify(EVENTS[i]) + '\n');
const bytesOf = (n: number) => Array.from({ length: n }, (_, i) => lineBytes(i)).reduce((a, b) => a + b, 0);

/** Append every event, flushing after each turn.completed, as the bus does at turn boundaries. */
function writeAll(writer: RunLogWriter) {
  for (const e of EVENTS) writer.append(e, e.type === 'turn.completed' || e.type === 'run.started');
  writer.close();
}

describe('RunLogWriter on a disk that fills up', () => {
  it('cuts a short write back to its last whole line, reports where the log ends, and writes nothing after', async () => {
    const dir = tempDir();
    // Room for run.started, turn 1 and half of turn 2's turn.started line.
    const disk = smallDisk(bytesOf(3) + Math.floor(lineBytes(3) / 2));
    const writer = RunLogWriter.open(dir, { writeBytes: disk.write });
    const failures: WriteFailure[] = [];
    writer.onFailure((f) => failures.push(f));
    expect(() => writeAll(writer)).not.toThrow();

    expect(failures).toHaveLength(1);
    expect(writer.failure).toMatchObject({ lastSeq: 3, turns: 1, error: { code: 'ENOSPC' } });
    expect(writer.failure!.message).toBe('cannot write the run log: the disk is full (ENOSPC); it ends at turn 1 (seq 3)');
    // The file holds exactly the three whole lines that fitted: no cut line, no run.finished (no room).
    const text = readFileSync(join(dir, 'events.jsonl'), 'utf8');
    expect(Buffer.byteLength(text)).toBe(bytesOf(3));
    const log = await readRunLog(join(dir, 'events.jsonl'));
    expect(log.truncatedTail).toBe(false);
    expect(log.problems).toEqual([]);
    expect(log.events).toEqual(EVENTS.slice(0, 3));
    expect(() => writer.throwIfFailed()).toThrow(/events\.jsonl: cannot write the run log: the disk is full \(ENOSPC\)/);
  });

  it('ends the log with a run.finished saying why when that line still fits, numbered after the last line on disk', async () => {
    const dir = tempDir();
    const disk = smallDisk(bytesOf(5) + 10);
    const writer = RunLogWriter.open(dir, { writeBytes: disk.write });
    let freed = false;
    // Space comes back after the failure (another process deleted something): only the closing line goes in.
    writer.onFailure(() => {
      disk.free(100_000);
      freed = true;
    });
    writeAll(writer);
    expect(freed).toBe(true);
    const log = await readRunLog(join(dir, 'events.jsonl'));
    expect(log.problems).toEqual([]);
    expect(log.truncatedTail).toBe(false);
    expect(log.events.slice(0, 5)).toEqual(EVENTS.slice(0, 5));
    expect(log.events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(log.events.at(-1)).toMatchObject({
      type: 'run.finished',
      seq: 6,
      status: 'failed',
      stopReason: 'log_unwritable',
      turns: 2,
      error: { name: 'RunLogError', message: 'cannot write the run log: the disk is full (ENOSPC); it ends at turn 2 (seq 5)' },
    });
    // Turns 3 and 4 never reached the disk and are not pretended to have.
    expect(log.events.filter((e) => e.type === 'turn.completed').map((e) => e.turn)).toEqual([1, 2]);
  });

  it.skipIf(!existsSync('/dev/full'))('a write to /dev/full (ENOSPC from the kernel) is reported, never thrown into the caller', () => {
    const dir = tempDir();
    symlinkSync('/dev/full', join(dir, 'events.jsonl'));
    const writer = RunLogWriter.open(dir);
    expect(() => writeAll(writer)).not.toThrow();
    expect(writer.failure).toMatchObject({ lastSeq: 0, turns: 0, error: { code: 'ENOSPC' } });
    expect(writer.failure!.message).toBe('cannot write the run log: the disk is full (ENOSPC); nothing of the run is in it');
    expect(() => writer.throwIfFailed()).toThrow(/ENOSPC/);
  });

  it('a resumed log that cannot even take the newline ending its last line refuses to open, naming the error', () => {
    const dir = tempDir();
    const first = RunLogWriter.open(dir);
    first.append(EVENTS[0]!, true);
    first.close();
    const size = Buffer.byteLength(readFileSync(join(dir, 'events.jsonl')));
    // A log whose last line lacks its newline, on a disk with no room left.
    const disk = smallDisk(0);
    expect(() => RunLogWriter.open(dir, { validBytes: size - 1, writeBytes: disk.write })).toThrow(/ENOSPC/);
  });
});
