import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRunLog, readRunLog } from '../../src/runlog/reader.js';
import { runMain } from '../helpers/main-in-process.js';
import { tempDir } from '../helpers/tmp-dir.js';

const TURNS = 6;
const A = ['spiral 🌀 one', 'spiral 🌀🌀 two'];
const B = ['bloom 🌸 one', 'bloom 🌸🌸 two'];
const textOf = (turn: number) => (turn % 2 === 1 ? A : B)[Math.floor((turn - 1) / 2) % 2]!;

function writeEmojiScenario(dir: string): string {
  const gen = (lines: string[]) => `{kind: script, loop: true, chunkWords: 1, chunkDelayMs: 0, lines: ${JSON.stringify(lines)}}`;
  const file = join(dir, 'emoji.yaml');
  writeFileSync(file, `name: emoji\nseed: 1\nagents:\n  - {id: a, name: Ada, backend: scripted, generator: ${gen(A)}}\n  - {id: b, name: Bea, backend: scripted, generator: ${gen(B)}}\nlimits: {maxTurns: ${TURNS}}\n`);
  return file;
}

/**
 * Cut a finished log as a crash while writing turn `turn`'s turn.completed would: everything from that line on
 * is gone but its first bytes, which end inside the 4-byte 🌀 or 🌸 (two of its bytes written).
 */
function cutInsideEmoji(file: string, turn: number): { cutAt: number; lineStart: number } {
  const bytes = readFileSync(file);
  const text = bytes.toString('utf8');
  const charStart = text.indexOf(`"type":"turn.completed","turn":${turn},`);
  const lineStart = Buffer.byteLength(text.slice(0, text.lastIndexOf('\n', charStart) + 1));
  const line = bytes.subarray(lineStart, bytes.indexOf(0x0a, lineStart));
  const emoji = Math.max(line.indexOf(Buffer.from('🌀')), line.indexOf(Buffer.from('🌸')));
  expect(emoji).toBeGreaterThan(0);
  const cutAt = lineStart + emoji + 2;
  writeFileSync(file, bytes.subarray(0, cutAt));
  return { cutAt, lineStart };
}

function expectWholeRun(events: Awaited<ReturnType<typeof readRunLog>>['events']) {
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  const turns = events.filter((e) => e.type === 'turn.completed');
  expect(turns.map((e) => e.turn)).toEqual(Array.from({ length: TURNS }, (_, i) => i + 1));
  expect(turns.map((e) => e.text)).toEqual(turns.map((e) => textOf(e.turn)));
  expect(events.at(-1)).toMatchObject({ type: 'run.finished', status: 'completed', turns: TURNS });
}

describe('a run log whose last line is cut inside a multi-byte character', () => {
  it('the reader counts the cut line out by bytes: validBytes is where the line starts, totalBytes the file size', () => {
    const whole = Buffer.from('{"v":1}\n');
    const cut = Buffer.concat([whole, Buffer.from('{"text":"🌀').subarray(0, 12)]);
    expect(cut.toString('utf8')).toContain('\ufffd');
    const log = parseRunLog(cut, 'x.jsonl');
    expect(log.truncatedTail).toBe(true);
    expect(log.validBytes).toBe(whole.length);
    expect(log.totalBytes).toBe(cut.length);
  });

  it('arena resume drops the partial line and completes the run, every turn once', async () => {
    const dir = tempDir();
    const runsDir = join(dir, 'runs');
    const run = await runMain(['run', writeEmojiScenario(dir), '--no-view', '--quiet', '--json', '--runs-dir', runsDir], dir);
    expect(run.code).toBe(0);
    const { runDir, runId } = JSON.parse(run.out.trim().split('\n').at(-1)!) as { runDir: string; runId: string };
    const file = join(runDir, 'events.jsonl');
    const { cutAt, lineStart } = cutInsideEmoji(file, 4);
    const before = Buffer.from(readFileSync(file).subarray(0, lineStart));

    const resumed = await runMain(['resume', runDir, '--json', '--quiet'], dir);
    expect(resumed.err).not.toMatch(/changed since it was read/);
    expect(resumed.code).toBe(0);
    expect(resumed.err).toContain(`warning: ${file}: the last line was cut off mid-write (a crash?) and was left out`);
    expect(JSON.parse(resumed.out.trim().split('\n').at(-1)!)).toMatchObject({ runId, status: 'completed', turns: TURNS });

    const log = await readRunLog(file);
    expect(log.problems).toEqual([]);
    expect(log.truncatedTail).toBe(false);
    // The bytes before the cut line are untouched; the partial character is gone.
    expect(readFileSync(file).subarray(0, lineStart)).toEqual(before);
    expect(readFileSync(file, 'utf8')).not.toContain('\ufffd');
    expect(cutAt).toBeGreaterThan(lineStart);
    expectWholeRun(log.events);
    expect(log.events.find((e) => e.type === 'run.resumed')).toMatchObject({ fromTurn: 3, truncatedTail: true });
  });

  it('arena batch resume continues such a run instead of marking it failed', async () => {
    const dir = tempDir();
    writeEmojiScenario(dir);
    writeFileSync(join(dir, 'plan.yaml'), 'name: emoji-batch\nscenarios: [emoji.yaml]\nrepetitions: 2\n');
    const first = await runMain(['batch', 'plan.yaml', '--runs-dir', 'out', '--json', '--quiet'], dir);
    expect(first.code).toBe(0);
    const { batchDir } = JSON.parse(first.out.trim().split('\n').at(-1)!) as { batchDir: string };
    const runDirs = readdirSync(batchDir).filter((f) => /^\d{4}-/.test(f)).map((f) => join(batchDir, f));
    cutInsideEmoji(join(runDirs[0]!, 'events.jsonl'), 5);

    for (let i = 0; i < 2; i++) {
      // Twice: the second resume finds everything finished and keeps it so.
      const again = await runMain(['batch', 'resume', batchDir, '--json', '--quiet'], dir);
      expect(again.code, again.err).toBe(0);
      expect(JSON.parse(again.out.trim().split('\n').at(-1)!)).toMatchObject({ runs: { planned: 2, completed: 2, failed: 0 } });
    }
    for (const runDir of runDirs) expectWholeRun((await readRunLog(join(runDir, 'events.jsonl'))).events);
  });
});
