import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ArenaEvent } from '../../src/runlog/events.js';
import { LineScanner, peekSeq, peekType, type ScanOptions } from '../../src/runlog/line-scanner.js';
import { readAppended } from '../../src/runlog/read-appended.js';
import { tempDir } from '../helpers/tmp-dir.js';
import { started, stamp, turn } from './_events.js';

const [run, t1s, t1c, t2s, t2c] = stamp([started, ...turn(1, 'a', 'café 🌀 नमस्ते'), ...turn(2, 'b', 'ok')]);
const line = (e: ArenaEvent) => JSON.stringify(e) + '\n';

function scan(bytes: Buffer, options?: ScanOptions) {
  const scanner = new LineScanner(options);
  const events: ArenaEvent[] = [];
  scanner.scanAll(bytes, (e) => events.push(e));
  return { scanner, events, seqs: events.map((e) => e.seq) };
}

describe('LineScanner', () => {
  it('leaves out a last line cut inside a multi-byte character, and says where the readable part ends', () => {
    const whole = Buffer.from(line(run!) + line(t1s!));
    const third = Buffer.from(line(t1c!));
    const inside = third.indexOf(Buffer.from('🌀')) + 2; // two of the emoji's four bytes
    const { scanner, seqs } = scan(Buffer.concat([whole, third.subarray(0, inside)]));
    expect(seqs).toEqual([1, 2]);
    expect(scanner.truncatedTail).toBe(true);
    expect(scanner.validBytes).toBe(whole.length);
    expect(scanner.problems).toEqual([]);
    expect(scanner.describe('f.jsonl')).toEqual(['f.jsonl: the last line was cut off mid-write (a crash?) and was left out']);
  });

  it('reads a line whose multi-byte characters arrive split across chunks, byte by byte', () => {
    const bytes = Buffer.from(line(run!) + line(t1s!) + line(t1c!));
    const scanner = new LineScanner();
    const events: ArenaEvent[] = [];
    for (let i = 0; i < bytes.length; i++) scanner.push(bytes.subarray(i, i + 1), (e) => events.push(e));
    expect(events).toEqual([run, t1s, t1c]);
    expect(events[2]!.type === 'turn.completed' && events[2]!.text).toBe('café 🌀 नमस्ते');
    expect(scanner.bytesRead).toBe(bytes.length);
    expect(scanner.validBytes).toBe(bytes.length);
  });

  it('holds a line without its newline until more comes, and reads it whole at the end of the file', () => {
    const scanner = new LineScanner();
    const events: ArenaEvent[] = [];
    scanner.push(Buffer.from(line(run!) + JSON.stringify(t1s)), (e) => events.push(e));
    expect(events).toEqual([run]);
    expect(scanner.line).toBe(1);
    scanner.end((e) => events.push(e));
    expect(events).toEqual([run, t1s]);
    expect(scanner.truncatedTail).toBe(false);
  });

  it('reads a CRLF line as the event it holds', () => {
    const text = line(run!) + JSON.stringify(t1s) + '\r\n' + line(t1c!);
    const { scanner, events } = scan(Buffer.from(text));
    expect(events).toEqual([run, t1s, t1c]);
    expect(scanner.problems).toEqual([]);
    expect(scanner.validBytes).toBe(Buffer.byteLength(text));
  });

  it('passes over empty and blank lines, still counting them as lines', () => {
    const text = line(run!) + '\n' + '  \t\n' + line(t1s!) + 'not json at all\n' + line(t1c!);
    const { scanner, events } = scan(Buffer.from(text));
    expect(events).toEqual([run, t1s, t1c]);
    expect(scanner.problems).toEqual([{ line: 5, problem: 'not valid JSON' }]);
    expect(scanner.describe('f.jsonl')).toEqual(['f.jsonl:5: skipped: not valid JSON']);
    expect(scanner.validBytes).toBe(Buffer.byteLength(text));
  });

  it('reports a line that is not JSON, and one that is JSON but no event, and reads on', () => {
    const text = line(run!) + '{"v":1,"seq":2,\n' + '{"v":1,"seq":2,"ts":"x","runId":"r1","type":"turn.started","turn":"one","agentId":"a"}\n' + line(t1s!);
    const { scanner, seqs } = scan(Buffer.from(text));
    expect(seqs).toEqual([1, 2]);
    expect(scanner.problems).toEqual([
      { line: 2, problem: 'not valid JSON' },
      { line: 3, problem: 'turn: Invalid input: expected number, received string' },
    ]);
    expect(scanner.truncatedTail).toBe(false);
  });

  it('leaves out a repeated line and says so in the words every reader uses', () => {
    const { scanner, seqs } = scan(Buffer.from(line(run!) + line(t1s!) + line(t1s!) + line(t1c!)));
    expect(seqs).toEqual([1, 2, 3]);
    expect(scanner.describe('f.jsonl')).toEqual(['f.jsonl:3: skipped: repeats line 2 (seq 2); counted once']);
  });

  it('unchecked, hands over every readable line and reports only unreadable ones', () => {
    const { scanner, seqs } = scan(Buffer.from(line(run!) + line(t1s!) + line(t1s!) + 'x\n'), { check: false });
    expect(seqs).toEqual([1, 2, 2]);
    expect(scanner.problems).toEqual([{ line: 4, problem: 'not valid JSON' }]);
  });
});

describe('type peeking', () => {
  it('reads the type and seq of an arena line without parsing it, and nothing from a line that lacks them', () => {
    const b = Buffer.from('xx' + JSON.stringify(t2c) + 'yy');
    const end = b.length - 2;
    expect(peekType(b, 2, end)).toBe('turn.completed');
    expect(peekSeq(b, 2, end)).toBe(5);
    const other = Buffer.from('{"text":"a \\"type\\":\\"x\\"","seq":"7"}');
    expect(peekType(other, 0, other.length)).toBeUndefined();
    expect(peekSeq(other, 0, other.length)).toBeUndefined();
    // A type that only starts inside the line's window but ends after the line is not read.
    const cut = Buffer.from('{"v":1,"seq":3,"type":"turn.de');
    expect(peekType(cut, 0, cut.length)).toBeUndefined();
  });

  it('passes over skipped types unparsed but still checks their seq, and never skips a cut last line', () => {
    const garbledDelta = '{"v":1,"seq":3,"ts":"x","runId":"r1","type":"turn.delta","turn":"not a number"}\n';
    // The cut last line is of a skipped type, with its type and seq in reach of a peek.
    const text = line(run!) + line(t1s!) + garbledDelta + line(t2s!) + JSON.stringify(t1c).slice(0, -5);
    const parsedTypes: string[] = [];
    const skip = (type: string) => type === 'turn.delta' || type === 'turn.completed';
    const scanner = new LineScanner({ skip });
    scanner.scanAll(Buffer.from(text), (e) => parsedTypes.push(e.type));
    expect(parsedTypes).toEqual(['run.started', 'turn.started', 'turn.started']);
    // The delta's bad field is not seen; its seq (3) is checked, so seq 4 after it is no jump.
    expect(scanner.problems).toEqual([]);
    expect(scanner.truncatedTail).toBe(true);
    // Unskipped, the same delta is reported.
    const all = scan(Buffer.from(text));
    expect(all.scanner.problems).toEqual([{ line: 3, problem: 'turn: Invalid input: expected number, received string' }]);
  });
});

describe('readAppended', () => {
  it('follows a growing log line by line, and starts over when the file is replaced by a shorter one', async () => {
    const file = join(tempDir(), 'events.jsonl');
    let read = await readAppended(file, new LineScanner());
    expect(read).toMatchObject({ events: [], restarted: false, size: 0 });
    writeFileSync(file, line(run!) + JSON.stringify(t1s).slice(0, 20));
    read = await readAppended(file, read.scanner);
    expect(read.events).toEqual([run]);
    appendFileSync(file, JSON.stringify(t1s).slice(20) + '\n' + line(t1c!));
    read = await readAppended(file, read.scanner);
    expect(read.events).toEqual([t1s, t1c]);
    writeFileSync(file, line(run!));
    read = await readAppended(file, read.scanner);
    expect(read.restarted).toBe(true);
    expect(read.events).toEqual([run]);
    expect(read.scanner.line).toBe(1);
  });
});
