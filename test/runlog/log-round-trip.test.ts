import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunLogWriter } from '../../src/runlog/writer.js';
import { EVENTS_FILE, runLogPath } from '../../src/runlog/layout.js';
import { describeProblems, parseRunLog, readRunLog } from '../../src/runlog/reader.js';
import { InputError } from '../../src/errors.js';
import { tempDir } from '../helpers/tmp-dir.js';
import { finished, stamp, started, turn } from './_events.js';

const EVENTS = stamp([
  started,
  ...turn(1, 'a', 'Hello 🌀, "quoted"\nand a new line'),
  { type: 'turn.failed', turn: 2, agentId: 'b', attempt: 1, error: { name: 'AgentError', message: 'overloaded', status: 529 }, willRetry: true, partialText: 'par' },
  ...turn(2, 'b', 'तत् त्वम् असि'),
  { type: 'intervention', turn: 2, kind: 'inject', by: 'op', text: 'psst', as: 'narrator' },
  finished,
]);

describe('run log writer and reader', () => {
  it('round-trips every event exactly, one JSON object per line', async () => {
    const dir = tempDir();
    const w = RunLogWriter.open(join(dir, 'run'));
    for (const e of EVENTS) w.append(e, true);
    w.close();
    const file = join(dir, 'run', EVENTS_FILE);
    const text = readFileSync(file, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect(text.trimEnd().split('\n')).toHaveLength(EVENTS.length);
    const log = await readRunLog(file);
    expect(log).toEqual({ file, events: EVENTS, truncatedTail: false, problems: [], validBytes: Buffer.byteLength(text), totalBytes: Buffer.byteLength(text) });
    expect(describeProblems(log)).toEqual([]);
  });

  it('buffers within a turn and writes whole lines at a boundary', () => {
    const dir = tempDir();
    const w = RunLogWriter.open(dir);
    const file = join(dir, EVENTS_FILE);
    w.append(EVENTS[0]!, true);
    const afterStart = readFileSync(file, 'utf8');
    w.append(EVENTS[1]!); // turn.started: not a boundary
    expect(readFileSync(file, 'utf8')).toBe(afterStart);
    w.append(EVENTS[2]!, true);
    expect(readFileSync(file, 'utf8').trimEnd().split('\n')).toHaveLength(3);
    w.close();
    expect(() => w.append(EVENTS[3]!)).toThrow(/closed/);
  });

  it('close flushes what is buffered', async () => {
    const dir = tempDir();
    const w = RunLogWriter.open(dir);
    for (const e of EVENTS) w.append(e);
    w.close({ sync: true });
    expect((await readRunLog(join(dir, EVENTS_FILE))).events).toEqual(EVENTS);
  });

  it('tolerates a truncated last line, reports it, and knows where the readable part ends', async () => {
    const dir = tempDir();
    const file = join(dir, EVENTS_FILE);
    const whole = EVENTS.slice(0, 6).map((e) => JSON.stringify(e) + '\n').join('');
    const cut = JSON.stringify(EVENTS[6]!).slice(0, 40);
    writeFileSync(file, whole + cut);
    const log = await readRunLog(file);
    expect(log.events).toEqual(EVENTS.slice(0, 6));
    expect(log.truncatedTail).toBe(true);
    expect(log.problems).toEqual([]);
    // Bytes, not characters: the log holds emoji and Devanagari.
    expect(log.validBytes).toBe(Buffer.byteLength(whole));
    expect(describeProblems(log)).toEqual([`${file}: the last line was cut off mid-write (a crash?) and was left out`]);
  });

  it('reports a malformed middle line with its line number and keeps the other events', () => {
    const lines = EVENTS.map((e) => JSON.stringify(e));
    lines.splice(3, 0, '{"v":1,"seq":');
    const log = parseRunLog(lines.join('\n') + '\n', 'x.jsonl');
    expect(log.events).toEqual(EVENTS);
    expect(log.truncatedTail).toBe(false);
    expect(log.problems).toEqual([{ line: 4, problem: 'not valid JSON' }]);
    expect(describeProblems(log)).toEqual(['x.jsonl:4: skipped: not valid JSON']);
  });

  it('reports a line that is JSON but not an event, naming the field', () => {
    const bad = { ...EVENTS[2]!, text: 42 };
    const lines = [JSON.stringify(EVENTS[0]), JSON.stringify(EVENTS[1]), JSON.stringify(bad), JSON.stringify(EVENTS[3])];
    const log = parseRunLog(lines.join('\n') + '\n', 'x.jsonl');
    expect(log.events).toEqual([EVENTS[0], EVENTS[1], EVENTS[3]]);
    expect(log.problems).toHaveLength(1);
    expect(log.problems[0]!.line).toBe(3);
    expect(log.problems[0]!.problem).toMatch(/^text: /);
  });

  it('reports seq that does not strictly increase, but lets deltas share the previous seq', () => {
    const [a, b, c] = stamp([started, ...turn(1, 'a', 'x')]);
    const delta = { v: 1, seq: b!.seq, ts: b!.ts, runId: 'r1', type: 'turn.delta', turn: 1, agentId: 'a', text: 'x' };
    const repeat = { ...c!, seq: b!.seq };
    const text = [a, b, delta, repeat].map((e) => JSON.stringify(e)).join('\n') + '\n';
    const log = parseRunLog(text, 'x.jsonl');
    // A different event under a used seq is reported and kept (it may be the only record of a turn).
    expect(log.problems).toEqual([{ line: 4, problem: `seq ${b!.seq} was already used on line 2`, kept: true }]);
    expect(describeProblems(log)).toEqual([`x.jsonl:4: seq ${b!.seq} was already used on line 2; the line is kept`]);
    expect(log.events).toHaveLength(4);
  });

  it('skips blank lines without complaint and counts them in the readable bytes', () => {
    const text = '\n' + JSON.stringify(EVENTS[0]) + '\n\n';
    const log = parseRunLog(text, 'x');
    expect(log.events).toHaveLength(1);
    expect(log.problems).toEqual([]);
    expect(log.validBytes).toBe(Buffer.byteLength(text));
  });

  it('a writer opened with validBytes cuts the crashed tail before appending', async () => {
    const dir = tempDir();
    const file = join(dir, EVENTS_FILE);
    const whole = EVENTS.slice(0, 3).map((e) => JSON.stringify(e) + '\n').join('');
    writeFileSync(file, whole + '{"v":1,"seq":4,"ts":"2026-');
    const before = await readRunLog(file);
    const w = RunLogWriter.open(dir, { validBytes: before.validBytes });
    w.append(EVENTS[3]!, true);
    w.close();
    const after = await readRunLog(file);
    expect(after.problems).toEqual([]);
    expect(after.truncatedTail).toBe(false);
    expect(after.events).toEqual(EVENTS.slice(0, 4));
  });

  it('appending after a last line that only lacks its newline keeps both events intact', async () => {
    const dir = tempDir();
    const file = join(dir, EVENTS_FILE);
    // e.g. a hand edit in an editor that drops the final newline
    writeFileSync(file, EVENTS.slice(0, 3).map((e) => JSON.stringify(e)).join('\n'));
    const before = await readRunLog(file);
    expect(before.events).toEqual(EVENTS.slice(0, 3));
    const w = RunLogWriter.open(dir, { validBytes: before.validBytes });
    w.append(EVENTS[3]!, true);
    w.close();
    const after = await readRunLog(file);
    expect(after.problems).toEqual([]);
    expect(after.events).toEqual(EVENTS.slice(0, 4));
  });

  it('runLogPath accepts a run folder or the file; a missing one is bad input', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, EVENTS_FILE), '');
    expect(await runLogPath(dir)).toBe(join(dir, EVENTS_FILE));
    expect(await runLogPath(join(dir, EVENTS_FILE))).toBe(join(dir, EVENTS_FILE));
    await expect(runLogPath(join(dir, 'nope'))).rejects.toBeInstanceOf(InputError);
    await expect(readRunLog(join(dir, 'nope', EVENTS_FILE))).rejects.toThrow(/no such run log/);
  });
});

describe('run log gaps and writers', () => {
  it('reports a removed line as a seq jump, naming how many events are missing', () => {
    const text = EVENTS.map((e) => JSON.stringify(e)).filter((_, i) => i !== 2).join('\n') + '\n';
    const log = parseRunLog(text, 'gap.jsonl');
    expect(log.problems).toEqual([{ line: 3, problem: `seq jumps from 2 to 4: 1 event missing before this line`, kept: true }]);
    expect(log.events).toHaveLength(EVENTS.length - 1);
  });

  it('refuses a second writer on a run folder while the first is open, and frees it on close', () => {
    const dir = tempDir();
    const first = RunLogWriter.open(dir);
    expect(() => RunLogWriter.open(dir)).toThrow(/being written by process \d+ \(this one\)/);
    first.close();
    const second = RunLogWriter.open(dir);
    second.close();
  });

  it('a writer opened in the background takes appends at once and writes them in order once open', async () => {
    const dir = tempDir();
    const w = RunLogWriter.openInBackground(join(dir, 'run'));
    for (const e of EVENTS.slice(0, 3)) w.append(e);
    w.flush();
    // Nothing is on disk until the code that started the run yields.
    expect(existsSync(join(dir, 'run', EVENTS_FILE))).toBe(false);
    await w.ready();
    expect(existsSync(join(dir, 'run', 'writer.lock'))).toBe(true);
    for (const e of EVENTS.slice(3)) w.append(e, true);
    w.close();
    await w.closed();
    const log = await readRunLog(join(dir, 'run', EVENTS_FILE));
    expect(log.events).toEqual(EVENTS);
    expect(existsSync(join(dir, 'run', 'writer.lock'))).toBe(false);
  });

  it('a background writer closed before its file opened still writes everything', async () => {
    const dir = tempDir();
    const w = RunLogWriter.openInBackground(join(dir, 'run'));
    for (const e of EVENTS) w.append(e);
    w.close();
    await w.closed();
    expect((await readRunLog(join(dir, 'run', EVENTS_FILE))).events).toEqual(EVENTS);
  });

  it('a background writer that cannot open says why in ready() and closed(), and writes nothing', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'not-a-folder'), 'x');
    const w = RunLogWriter.openInBackground(join(dir, 'not-a-folder', 'run'));
    w.append(EVENTS[0]!);
    await expect(w.ready()).rejects.toMatchObject({ code: 'ENOTDIR' });
    w.close();
    await expect(w.closed()).rejects.toMatchObject({ code: 'ENOTDIR' });
  });

  it('a path fs refuses outright fails its own background open alone; the opens queued after it still happen', async () => {
    const dir = tempDir();
    const writers = Array.from({ length: 40 }, (_, i) => RunLogWriter.openInBackground(i === 5 ? join(dir, 'bad\0name') : join(dir, `r${i}`), { lock: false }));
    writers.forEach((w, i) => w.append({ ...EVENTS[0]!, runId: `r${i}` }));
    const settled = await Promise.allSettled(writers.map((w) => w.ready()));
    expect(settled.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code)).toEqual(['ERR_INVALID_ARG_VALUE']);
    for (const w of writers) w.close();
    await Promise.allSettled(writers.map((w) => w.closed()));
    for (let i = 0; i < 40; i++) {
      if (i === 5) continue;
      expect((await readRunLog(join(dir, `r${i}`, EVENTS_FILE))).events.map((e) => e.runId)).toEqual([`r${i}`]);
    }
  });

  it('a background writer respects a live lock, and a batch may open its runs without one', async () => {
    const dir = tempDir();
    const first = RunLogWriter.open(dir);
    const second = RunLogWriter.openInBackground(dir);
    await expect(second.ready()).rejects.toThrow(/being written by process \d+ \(this one\)/);
    first.close();
    const unlocked = RunLogWriter.openInBackground(join(dir, 'other'), { lock: false });
    await unlocked.ready();
    expect(existsSync(join(dir, 'other', 'writer.lock'))).toBe(false);
    unlocked.close();
    await unlocked.closed();
  });

  it('takes over the lock of a process that is gone', async () => {
    const dir = tempDir();
    mkdirSync(dir, { recursive: true });
    // A pid far above any the kernel hands out here stands for a dead writer.
    writeFileSync(join(dir, 'writer.lock'), JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname() }));
    const writer = await RunLogWriter.openAsync(dir);
    writer.close();
    await writer.closed();
    expect(existsSync(join(dir, 'writer.lock'))).toBe(false);
  });

  it('refuses to resume a log that grew after it was read', async () => {
    const dir = tempDir();
    const w = RunLogWriter.open(dir);
    w.append(EVENTS[0]!, true);
    w.close();
    const read = await readRunLog(join(dir, 'events.jsonl'));
    appendFileSync(join(dir, 'events.jsonl'), JSON.stringify(EVENTS[1]) + '\n');
    await expect(RunLogWriter.openAsync(dir, { validBytes: read.validBytes, expectedBytes: read.totalBytes })).rejects.toThrow(/changed since it was read/);
  });
});
