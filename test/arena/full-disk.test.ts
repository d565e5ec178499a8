import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startRun, runScenario } from '../../src/arena/run.js';
import type { ArenaEvent } from '../../src/runlog/events.js';
import { readRunLog } from '../../src/runlog/reader.js';
import { runState } from '../../src/arena/run-state.js';
import { smallDisk } from '../helpers/full-disk.js';
import { tempDir } from '../helpers/tmp-dir.js';
import { scriptScenario } from './_run-fixtures.js';

const LINES = { a: ['alpha one two', 'alpha three four'], b: ['beta one two', 'beta three four'] };
const textOf = (turn: number) => (turn % 2 === 1 ? LINES.a : LINES.b)[Math.floor((turn - 1) / 2) % 2]!;

describe('a run whose log cannot be written', () => {
  it('fails with the reason, keeps every whole turn on disk, and resumes to the end once there is room', async () => {
    const runsDir = tempDir();
    // Paced turns (a pause between words), so the log is written turn by turn as in a real run.
    const scenario = scriptScenario({ limits: { maxTurns: 40 } }, { chunkDelayMs: 1, chunkWords: 1 });
    const disk = smallDisk(3000);
    const live: ArenaEvent[] = [];
    const handle = await startRun({ scenario, scenarioDir: runsDir, runsDir, logWrite: disk.write });
    handle.subscribe((e) => live.push(e), { deltas: false });
    const result = await handle.done;

    expect(result.status).toBe('failed');
    expect(result.stopReason).toBe('log_unwritable');
    expect(result.error).toMatch(/events\.jsonl: cannot write the run log: the disk is full \(ENOSPC\); it ends at turn \d+ \(seq \d+\)$/);
    expect(disk.written).toBeLessThanOrEqual(3000);
    // The run stopped soon after the disk filled, not after all 40 turns.
    expect(live.filter((e) => e.type === 'turn.completed').length).toBeLessThan(40);
    expect(live.at(-1)).toMatchObject({ type: 'run.finished', status: 'failed', stopReason: 'log_unwritable', turns: result.turns });

    const file = join(result.runDir, 'events.jsonl');
    const cut = await readRunLog(file);
    expect(cut.problems).toEqual([]);
    expect(cut.truncatedTail).toBe(false);
    const onDisk = cut.events.filter((e) => e.type === 'turn.completed');
    expect(onDisk.length).toBeGreaterThan(0);
    expect(onDisk.map((e) => e.turn)).toEqual(onDisk.map((_, i) => i + 1));
    expect(result.turns).toBe(onDisk.length);
    expect(cut.events.some((e) => e.type === 'run.finished' && e.status === 'completed')).toBe(false);

    // Space is freed: resuming continues after the last turn on disk and completes, every turn once.
    const state = runState(cut.events, file);
    const resumed = await runScenario({
      scenario,
      scenarioDir: runsDir,
      runsDir,
      runDir: result.runDir,
      resume: { state, validBytes: cut.validBytes, truncatedTail: cut.truncatedTail, history: cut.events, totalBytes: cut.totalBytes },
    });
    expect(resumed).toMatchObject({ status: 'completed', stopReason: 'max_turns', turns: 40 });
    expect(resumed.error).toBeUndefined();
    const whole = await readRunLog(file);
    expect(whole.problems).toEqual([]);
    expect(whole.events.map((e) => e.seq)).toEqual(whole.events.map((_, i) => i + 1));
    const turns = whole.events.filter((e) => e.type === 'turn.completed');
    expect(turns.map((e) => e.turn)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(turns.map((e) => e.text)).toEqual(turns.map((e) => textOf(e.turn)));
    expect(whole.events.at(-1)).toMatchObject({ type: 'run.finished', status: 'completed', turns: 40 });
  });

  it('ends the log with a failed run.finished when room comes back, and a resume continues after it', async () => {
    const runsDir = tempDir();
    const scenario = scriptScenario({ limits: { maxTurns: 30 } }, { chunkDelayMs: 1, chunkWords: 1 });
    // Another process frees space as soon as the disk is full: only the closing line gets the room.
    const disk = smallDisk(2500, { roomAfterFailure: 1 << 20 });
    const result = await runScenario({ scenario, scenarioDir: runsDir, runsDir, logWrite: disk.write });
    expect(result).toMatchObject({ status: 'failed', stopReason: 'log_unwritable' });

    const file = join(result.runDir, 'events.jsonl');
    const cut = await readRunLog(file);
    expect(cut.problems).toEqual([]);
    const last = cut.events.at(-1)!;
    expect(last).toMatchObject({ type: 'run.finished', status: 'failed', stopReason: 'log_unwritable', turns: result.turns, error: { name: 'RunLogError' } });
    expect(last.seq).toBe(cut.events.at(-2)!.seq + 1);

    const state = runState(cut.events, file);
    expect(state.finished?.stopReason).toBe('log_unwritable');
    const resumed = await runScenario({
      scenario,
      scenarioDir: runsDir,
      runsDir,
      runDir: result.runDir,
      resume: { state, validBytes: cut.validBytes, truncatedTail: cut.truncatedTail, history: cut.events, totalBytes: cut.totalBytes },
    });
    expect(resumed).toMatchObject({ status: 'completed', turns: 30 });
    const whole = await readRunLog(file);
    expect(whole.problems).toEqual([]);
    expect(whole.events.map((e) => e.seq)).toEqual(whole.events.map((_, i) => i + 1));
    expect(whole.events.filter((e) => e.type === 'turn.completed').map((e) => e.turn)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });

  it('fails when the last writes, run.finished among them, do not fit (a run faster than its disk)', async () => {
    const runsDir = tempDir();
    // Turns without delay: the whole run is over before the log file is open, then written in one go.
    const disk = smallDisk(1500);
    const result = await runScenario({ scenario: scriptScenario({ limits: { maxTurns: 30 } }), scenarioDir: runsDir, runsDir, logWrite: disk.write });
    expect(result).toMatchObject({ status: 'failed', stopReason: 'log_unwritable' });
    const log = await readRunLog(join(result.runDir, 'events.jsonl'));
    expect(log.truncatedTail).toBe(false);
    expect(log.events.filter((e) => e.type === 'turn.completed').length).toBe(result.turns);
    expect(log.events.some((e) => e.type === 'run.finished' && e.status === 'completed')).toBe(false);
  });

  it.skipIf(!existsSync('/dev/full'))('on a device that takes no byte (/dev/full) the run fails at once instead of crashing', async () => {
    const runsDir = tempDir();
    const runDir = join(runsDir, 'full');
    mkdirSync(runDir);
    symlinkSync('/dev/full', join(runDir, 'events.jsonl'));
    const result = await runScenario({ scenario: scriptScenario({ limits: { maxTurns: 400 } }, { chunkDelayMs: 1, chunkWords: 1 }), scenarioDir: runsDir, runsDir, runDir, runId: 'full' });
    expect(result).toMatchObject({ status: 'failed', stopReason: 'log_unwritable', turns: 0 });
    expect(result.error).toMatch(/the disk is full \(ENOSPC\); nothing of the run is in it/);
  });
});
