import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runMain } from '../helpers/main-in-process.js';
import { tempDir } from '../helpers/tmp-dir.js';
import { writeScenario } from './_scenario.js';

const TURNS = 8;

/** An 8-turn scripted run, written by `arena run`; returns its log's lines. */
async function freshRun(dir: string): Promise<{ file: string; lines: string[] }> {
  const scenario = writeScenario(dir, { maxTurns: TURNS, chunkDelayMs: 0 });
  const runsDir = join(dir, 'runs');
  const run = await runMain(['run', scenario, '--no-view', '--quiet', '--json', '--runs-dir', runsDir], dir);
  expect(run.code).toBe(0);
  const { runDir } = JSON.parse(run.out.trim().split('\n').at(-1)!) as { runDir: string };
  const file = join(runDir, 'events.jsonl');
  return { file, lines: readFileSync(file, 'utf8').trimEnd().split('\n') };
}

const indexOf = (lines: string[], type: string, turn: number) => lines.findIndex((l) => l.includes(`"type":"${type}"`) && l.includes(`"turn":${turn},`));

/** What every reading command says about the log (its `warning:` lines naming the file), and the turns it counts. */
async function readers(dir: string, file: string) {
  const warnings = (err: string) => err.split('\n').filter((l) => l.startsWith(`warning: ${file}`)).sort();
  const show = await runMain(['show', file], dir);
  const analyze = await runMain(['analyze', file, '--json'], dir);
  const stats = await runMain(['stats', file, '--by', 'none', '--json'], dir);
  const query = await runMain(['query', 'select count(*) as n from turns', file, '--json'], dir);
  const resume = await runMain(['resume', file, '--json', '--quiet'], dir);
  for (const r of [show, analyze, stats, query, resume]) expect(r.code, r.err).toBe(0);
  return {
    warnings: { show: warnings(show.err), analyze: warnings(analyze.err), stats: warnings(stats.err), query: warnings(query.err), resume: warnings(resume.err) },
    turns: {
      show: show.out.split('\n').filter((l) => /alpha says|beta says/.test(l)).length,
      stats: (JSON.parse(stats.out.trim().split('\n').at(-1)!) as { groups: { turns: number }[] }).groups[0]!.turns,
      query: (JSON.parse(query.out.trim().split('\n').at(-1)!) as { rows: number[][] }).rows[0]![0],
      resume: (JSON.parse(resume.out.trim().split('\n').at(-1)!) as { turns: number }).turns,
    },
  };
}

function expectAllSay(warnings: Record<string, string[]>, expected: string[]) {
  for (const [command, lines] of Object.entries(warnings)) expect({ command, lines }).toEqual({ command, lines: [...expected].sort() });
}

describe('every reader of a run log warns alike and counts a turn once', () => {
  it('a duplicated turn.completed line: counted once, one warning, in show, analyze, stats, query and resume', async () => {
    const dir = tempDir();
    const { file, lines } = await freshRun(dir);
    const at = indexOf(lines, 'turn.completed', 5);
    lines.splice(at + 1, 0, lines[at]!);
    writeFileSync(file, lines.join('\n') + '\n');

    const { warnings, turns } = await readers(dir, file);
    expectAllSay(warnings, [`warning: ${file}:${at + 2}: skipped: repeats line ${at + 1} (seq ${at + 1}); counted once`]);
    expect(turns).toEqual({ show: TURNS, stats: TURNS, query: TURNS, resume: TURNS });
  });

  it('a missing line: the same seq-jump warning everywhere, every turn still counted', async () => {
    const dir = tempDir();
    const { file, lines } = await freshRun(dir);
    const at = indexOf(lines, 'turn.started', 3);
    lines.splice(at, 1);
    writeFileSync(file, lines.join('\n') + '\n');

    const { warnings, turns } = await readers(dir, file);
    expectAllSay(warnings, [`warning: ${file}:${at + 1}: seq jumps from ${at} to ${at + 2}: 1 event missing before this line; the line is kept`]);
    expect(turns).toEqual({ show: TURNS, stats: TURNS, query: TURNS, resume: TURNS });
  });

  it('two swapped lines: reported as out of order and kept (not "skipped"), the same everywhere', async () => {
    const dir = tempDir();
    const { file, lines } = await freshRun(dir);
    const at = indexOf(lines, 'turn.started', 4);
    [lines[at], lines[at + 1]] = [lines[at + 1]!, lines[at]!];
    writeFileSync(file, lines.join('\n') + '\n');

    const { warnings, turns } = await readers(dir, file);
    const [before, second, first] = [at, at + 2, at + 1];
    expectAllSay(warnings, [
      `warning: ${file}:${at + 1}: seq jumps from ${before} to ${second}; the events between come later in the file (out of order); the line is kept`,
      `warning: ${file}:${at + 2}: seq ${first} is out of order (after seq ${second}); the line is kept`,
    ]);
    expect(Object.values(warnings).flat().some((l) => l.includes('skipped'))).toBe(false);
    expect(turns).toEqual({ show: TURNS, stats: TURNS, query: TURNS, resume: TURNS });
  });
});

describe('arena analyze on a file that is not a run', () => {
  it.each([
    ['an empty file', ''],
    ['garbage', 'this is not a run log\n\u0000\u0001 at all\n'],
  ])('%s: says so and exits 2, never "no attractor"', async (_name, content) => {
    const dir = tempDir();
    const file = join(dir, 'events.jsonl');
    writeFileSync(file, content);
    for (const args of [['analyze', file], ['analyze', file, '--json']]) {
      const r = await runMain(args, dir);
      expect(r.code).toBe(2);
      expect(r.out).toBe('');
      expect(r.out + r.err).not.toMatch(/no attractor/);
      expect(r.err).toContain(`${file}: not a run log (no run.started event): nothing to analyse`);
    }
  });

  it('a folder holding a run and an empty log: analyses the run, warns about the other', async () => {
    const dir = tempDir();
    const { file } = await freshRun(dir);
    const empty = join(dir, 'runs', 'empty', 'events.jsonl');
    await import('node:fs').then((fs) => fs.mkdirSync(join(dir, 'runs', 'empty')));
    writeFileSync(empty, '');
    const r = await runMain(['analyze', join(dir, 'runs'), '--json'], dir);
    expect(r.code).toBe(0);
    expect(r.err).toContain(`warning: ${empty}: skipped: no run.started event`);
    const runs = (JSON.parse(r.out.trim().split('\n').at(-1)!) as { runs: { runDir: string }[] }).runs;
    expect(runs.map((x) => join(x.runDir, 'events.jsonl'))).toEqual([file]);
  });
});
