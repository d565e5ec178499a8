import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { ArenaEvent } from '../../src/runlog/events.js';
import { LogTail } from '../../src/viewer/log-tail.js';
import { tempDir } from '../helpers/tmp-dir.js';
import { started, stamp, turn } from '../runlog/_events.js';

describe('LogTail', () => {
  it("reads another process's log as it grows, each turn once, and logs its problems in the words every reader uses", async () => {
    const [run, t1s, t1c, t2s] = stamp([started, ...turn(1, 'a', 'spiral 🌀'), ...turn(2, 'b', 'x')]);
    const file = join(tempDir(), 'events.jsonl');
    const warnings: { msg: string; line: number }[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const l of String(chunk).split('\n').filter(Boolean)) warnings.push(JSON.parse(l));
        done();
      },
    });
    const events: ArenaEvent[] = [];
    const tail = new LogTail(file, (e) => events.push(...e), pino({ level: 'warn' }, sink));
    const completed = JSON.stringify(t1c) + '\n';
    // The completed turn arrives cut inside its emoji; the rest comes with the next append.
    const cut = Buffer.from(completed).indexOf(Buffer.from('🌀')) + 1;
    writeFileSync(file, Buffer.concat([Buffer.from(`${JSON.stringify(run)}\nnot json\n${JSON.stringify(t1s)}\n`), Buffer.from(completed).subarray(0, cut)]));
    await tail.readMore();
    expect(events.map((e) => e.seq)).toEqual([1, 2]);
    appendFileSync(file, Buffer.concat([Buffer.from(completed).subarray(cut), Buffer.from(completed + JSON.stringify(t2s) + '\n')]));
    await tail.readMore();
    tail.close();
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(events[2]!.type === 'turn.completed' && events[2]!.text).toBe('spiral 🌀');
    await new Promise<void>((resolve) => sink.end(resolve));
    expect(warnings.map((w) => w.msg)).toEqual([`viewer: ${file}:2: skipped: not valid JSON`, `viewer: ${file}:5: skipped: repeats line 4 (seq 3); counted once`]);
  });
});
