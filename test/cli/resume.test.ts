import { readFileSync, truncateSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRunLog } from '../../src/runlog/reader.js';
import type { ArenaEvent } from '../../src/runlog/events.js';
import { countType, lastJsonLine, runCli, spawnCli, waitForLog } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp-dir.js';
import { expectedText, writeScenario } from './_scenario.js';

const MAX_TURNS = 8;

/** Start a slow run, wait until `completed` turns are in its log, and kill -9 it in the middle of the next. */
async function killMidRun(completed: number) {
  const dir = tempDir();
  const runsDir = join(dir, 'runs');
  // 6 words a turn, 40 ms between words: a turn takes ~200 ms, so the kill lands inside one.
  const scenario = writeScenario(dir, { maxTurns: MAX_TURNS, chunkDelayMs: 40 });
  const { child, exited } = spawnCli(['run', scenario, '--no-view', '--runs-dir', runsDir, '--quiet'], { cwd: dir });
  const { runDir } = await waitForLog(runsDir, (events) => countType(events, 'turn.completed') >= completed, { exited });
  child.kill('SIGKILL');
  const result = await exited;
  expect(result.signal).toBe('SIGKILL');
  const file = join(runDir, 'events.jsonl');
  const killed = await readRunLog(file);
  // Killed mid-run: not finished, not all turns done.
  expect(killed.events.some((e) => e.type === 'run.finished')).toBe(false);
  expect(countType(killed.events, 'turn.completed')).toBeLessThan(MAX_TURNS);
  return { dir, runsDir, runDir, file, killed };
}

function checkResumedLog(events: readonly ArenaEvent[], runId: string) {
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  expect(new Set(events.map((e) => e.runId))).toEqual(new Set([runId]));
  expect(countType(events, 'run.started')).toBe(1);
  expect(countType(events, 'run.resumed')).toBe(1);
  const turns = events.filter((e) => e.type === 'turn.completed');
  expect(turns.map((e) => e.turn)).toEqual(Array.from({ length: MAX_TURNS }, (_, i) => i + 1));
  // The continued conversation says exactly what an uninterrupted run would have said.
  expect(turns.map((e) => e.text)).toEqual(turns.map((e) => expectedText(e.turn)));
  expect(turns.map((e) => e.agentId)).toEqual(turns.map((e) => (e.turn % 2 === 1 ? 'a' : 'b')));
  expect(events.at(-1)).toMatchObject({ type: 'run.finished', status: 'completed', stopReason: 'max_turns', turns: MAX_TURNS });
  expect(countType(events, 'run.finished')).toBe(1);
}

describe('arena resume after a crash', () => {
  it('continues a run killed with SIGKILL mid-turn: every turn once, in order, same runId', async () => {
    const { dir, runDir, file, killed } = await killMidRun(2);
    const runId = killed.events[0]!.runId;
    const doneBefore = countType(killed.events, 'turn.completed');

    const res = await runCli(['resume', runDir, '--json', '--quiet'], { cwd: dir });
    expect(res.stderr).not.toMatch(/\n\s+at /);
    expect(res.code).toBe(0);
    expect(lastJsonLine(res.stdout)).toEqual({ runId, runDir, status: 'completed', stopReason: 'max_turns', turns: MAX_TURNS, attractors: [] });

    const log = await readRunLog(file);
    expect(log.problems).toEqual([]);
    expect(log.truncatedTail).toBe(false);
    checkResumedLog(log.events, runId);
    expect(log.events.find((e) => e.type === 'run.resumed')).toMatchObject({ fromTurn: doneBefore, truncatedTail: false });
    // Everything written before the crash is still there, unchanged, in front.
    expect(log.events.slice(0, killed.events.length)).toEqual(killed.events);
  });

  it('resumes after a hand-truncated last line: drops the cut line, redoes that turn once', async () => {
    const { dir, runDir, file, killed } = await killMidRun(3);
    const runId = killed.events[0]!.runId;
    // Cut the log in the middle of its last turn.completed line, as a crash in the middle of writing it
    // would (the next turn's turn.started, written in the same write, goes with it).
    const text = readFileSync(file, 'utf8');
    const lastLineStart = text.lastIndexOf('\n', text.lastIndexOf('"type":"turn.completed"')) + 1;
    const lastLine = text.slice(lastLineStart, text.indexOf('\n', lastLineStart) + 1);
    expect(JSON.parse(lastLine)).toMatchObject({ type: 'turn.completed' });
    const cutTurn = (JSON.parse(lastLine) as { turn: number }).turn;
    truncateSync(file, Buffer.byteLength(text.slice(0, lastLineStart)) + 25);
    expect(statSync(file).size).toBeLessThan(Buffer.byteLength(text));

    const res = await runCli(['resume', runDir, '--json', '--quiet'], { cwd: dir });
    expect(res.code).toBe(0);
    // The user is told about the cut line, in one line, without a stack trace.
    expect(res.stderr).toMatch(/cut off mid-write/);
    expect(res.stderr).not.toMatch(/\n\s+at /);
    expect(lastJsonLine(res.stdout)).toMatchObject({ runId, status: 'completed', turns: MAX_TURNS });

    const log = await readRunLog(file);
    expect(log.problems).toEqual([]);
    expect(log.truncatedTail).toBe(false);
    checkResumedLog(log.events, runId);
    expect(log.events.find((e) => e.type === 'run.resumed')).toMatchObject({ fromTurn: cutTurn - 1, truncatedTail: true });
  });

  it('a finished run is not resumed again unless asked for more turns', async () => {
    const dir = tempDir();
    const runsDir = join(dir, 'runs');
    const scenario = writeScenario(dir, { maxTurns: 2, chunkDelayMs: 0 });
    const first = await runCli(['run', scenario, '--no-view', '--runs-dir', runsDir, '--json', '--quiet'], { cwd: dir });
    expect(first.code).toBe(0);
    const { runDir, runId } = lastJsonLine(first.stdout) as { runDir: string; runId: string };

    const again = await runCli(['resume', runDir, '--json'], { cwd: dir });
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/already completed/);
    expect(lastJsonLine(again.stdout)).toEqual({ runId, runDir, status: 'completed', stopReason: 'max_turns', turns: 2, attractors: [] });

    const extended = await runCli(['resume', runDir, '--json', '--quiet', '--max-turns', '4'], { cwd: dir });
    expect(extended.code).toBe(0);
    expect(lastJsonLine(extended.stdout)).toEqual({ runId, runDir, status: 'completed', stopReason: 'max_turns', turns: 4, attractors: [] });
    const log = await readRunLog(join(runDir, 'events.jsonl'));
    expect(log.events.filter((e) => e.type === 'turn.completed').map((e) => [e.turn, e.text])).toEqual([1, 2, 3, 4].map((t) => [t, expectedText(t)]));
  });

  it('resume of something that is not a run is bad input (exit 2, one line)', async () => {
    const dir = tempDir();
    const res = await runCli(['resume', join(dir, 'no-such-run')], { cwd: dir });
    expect(res.code).toBe(2);
    expect(res.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(res.stderr).toContain('no-such-run');
  });
});
