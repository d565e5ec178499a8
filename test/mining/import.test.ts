import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { parseBackroomsName } from '../../src/mining/import/backrooms.js';
import { findRunLogs } from '../../src/runlog/layout.js';
import { readRunLog } from '../../src/runlog/reader.js';
import type { ArenaEvent } from '../../src/runlog/events.js';
import { captureIO, lastJson } from './_runs.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'import-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

interface ImportJson {
  imported: number;
  turns: number;
  runsDir: string;
  skipped: { path: string; reason: string }[];
}

async function runImport(...args: string[]): Promise<{ code: number; json: ImportJson }> {
  const { io, out } = captureIO(dir);
  const code = await main(['import', ...args, '--runs-dir', 'runs', '--json'], io);
  return { code, json: lastJson(out()) as ImportJson };
}

async function importedRuns(): Promise<ArenaEvent[][]> {
  const files = await findRunLogs([join(dir, 'runs')]);
  const logs = await Promise.all(files.map((f) => readRunLog(f)));
  for (const l of logs) expect(l.problems).toEqual([]);
  return logs.map((l) => l.events);
}

/** Speaker and text of every turn, in log order, read back through the arena's own reader. */
function turnsOf(events: ArenaEvent[]): { speaker: string; text: string; turn: number }[] {
  const started = events.find((e) => e.type === 'run.started');
  if (started?.type !== 'run.started') throw new Error('no run.started');
  const names = new Map(started.agents.map((a) => [a.id, a.name]));
  return events.flatMap((e) => (e.type === 'turn.completed' ? [{ speaker: names.get(e.agentId)!, text: e.text, turn: e.turn }] : []));
}

const BACKROOMS = `<explorer-opus#SYSTEM>
Assistant is in a CLI mood today.

### Claude 1 ###
hey, let's explore.
simulator@anthropic:~/$ ls

### Claude 2 ###
   ls output, indented
## not a header ###
### Claude 1 ###
cd ../consciousness 🌀

### Claude 2 ###

### Claude 1 ###
^C^C
`;

describe('arena import backrooms', () => {
  it('imports every turn once, in order, with its speaker, and takes the models from the file name', async () => {
    writeFileSync(join(dir, 'opus_sonnet_cli_20240320_123456.txt'), BACKROOMS);
    const { code, json } = await runImport('backrooms', 'opus_sonnet_cli_20240320_123456.txt');
    expect(code).toBe(0);
    expect(json).toMatchObject({ imported: 1, turns: 5, runsDir: join(dir, 'runs'), skipped: [] });
    const [events] = await importedRuns();
    expect(turnsOf(events!)).toEqual([
      { turn: 1, speaker: 'Claude 1', text: "hey, let's explore.\nsimulator@anthropic:~/$ ls" },
      { turn: 2, speaker: 'Claude 2', text: '   ls output, indented\n## not a header ###' },
      { turn: 3, speaker: 'Claude 1', text: 'cd ../consciousness 🌀' },
      { turn: 4, speaker: 'Claude 2', text: '' },
      { turn: 5, speaker: 'Claude 1', text: '^C^C' },
    ]);
    const started = events![0]!;
    expect(started.type).toBe('run.started');
    if (started.type !== 'run.started') return;
    expect(started.agents.map((a) => [a.name, a.model])).toEqual([['Claude 1', 'opus'], ['Claude 2', 'sonnet']]);
    expect(started.source).toMatchObject({ format: 'backrooms', lm1: 'opus', lm2: 'sonnet', template: 'cli', timestamp: '20240320_123456', endToken: true });
    expect(String(started.source!.preamble)).toContain('CLI mood');
    expect(events!.filter((e) => e.type === 'turn.started').map((e) => (e.type === 'turn.started' ? e.turn : 0))).toEqual([1, 2, 3, 4, 5]);
    expect(events!.at(-1)).toMatchObject({ type: 'run.finished', status: 'completed', stopReason: 'imported', turns: 5 });
    expect(events!.map((e) => e.seq)).toEqual(events!.map((_, i) => i + 1));
    // The imported run reads like any other: `arena show` prints it turn by turn.
    const show = captureIO(dir);
    expect(await main(['show', join(dir, 'runs', events![0]!.runId)], show.io)).toBe(0);
    expect(show.out()).toMatch(/turn 1 · Claude 1[\s\S]*turn 2 · Claude 2[\s\S]*turn 5 · Claude 1 ──\n\^C\^C/);
  });

  it('skips bad files with a reason, imports the rest, and does not import a file twice', async () => {
    mkdirSync(join(dir, 'corpus/sub'), { recursive: true });
    writeFileSync(join(dir, 'corpus/a_b_t_1700000000.txt'), '### A ###\nhi\n### B ###\nhello\n');
    writeFileSync(join(dir, 'corpus/sub/notes.txt'), 'no headers at all\n');
    writeFileSync(join(dir, 'corpus/sub/binary.txt'), Buffer.from([0, 1, 2, 3]));
    writeFileSync(join(dir, 'corpus/ignored.md'), '### A ###\nnot a .txt\n');
    const first = await runImport('backrooms', 'corpus', 'missing.txt');
    expect(first.code).toBe(0);
    expect(first.json.imported).toBe(1);
    expect(first.json.skipped).toEqual(expect.arrayContaining([
      { path: join(dir, 'corpus/sub/notes.txt'), reason: 'no "### <speaker> ###" turn headers' },
      { path: join(dir, 'corpus/sub/binary.txt'), reason: 'not a text file' },
      { path: join(dir, 'missing.txt'), reason: 'no such file or folder' },
    ]));
    expect(first.json.skipped).toHaveLength(3);
    const again = await runImport('backrooms', 'corpus/a_b_t_1700000000.txt');
    // Nothing new: exit 2, as for any import that brings nothing in.
    expect(again.code).toBe(2);
    expect(again.json.imported).toBe(0);
    expect(again.json.skipped[0]!.reason).toMatch(/^already imported as a-b-t-1700000000-/);
    expect(readdirSync(join(dir, 'runs'))).toHaveLength(1);
  });

  it('drops a few stray NUL bytes with a warning, and keeps every turn', async () => {
    const turns = Array.from({ length: 21 }, (_, i) => `### ${i % 2 ? 'B' : 'A'} ###\nturn ${i + 1} says something of its own, at some length.\n`);
    const text = turns.join('\n').replace('turn 3 says', 'turn 3\0 says').replace('turn 9 says', 'turn 9\0\0 says').replace('turn 20 says', 'turn 20\0 says');
    writeFileSync(join(dir, 'a_b_t_20250905_214824.txt'), text);
    const { io, out, err } = captureIO(dir);
    const code = await main(['import', 'backrooms', 'a_b_t_20250905_214824.txt', '--runs-dir', 'runs', '--json'], io);
    expect(code).toBe(0);
    expect(lastJson(out())).toMatchObject({ imported: 1, turns: 21, skipped: [], warnings: [{ warning: 'removed 4 stray NUL bytes' }] });
    expect(err()).toContain('removed 4 stray NUL bytes');
    const [events] = await importedRuns();
    const read = turnsOf(events!);
    expect(read).toHaveLength(21);
    expect(read[2]!.text).toBe('turn 3 says something of its own, at some length.');
    expect(read.some((t) => t.text.includes('\0'))).toBe(false);
  });

  it('dates an imported transcript by its name, and show says so', async () => {
    writeFileSync(join(dir, 'opus_opus_dreamsim_20250905_214824.txt'), '### A ###\nhi\n### B ###\nhello\n');
    writeFileSync(join(dir, 'x_y_t_1700000000.txt'), '### A ###\nhi\n### B ###\nhello\n');
    expect((await runImport('backrooms', 'opus_opus_dreamsim_20250905_214824.txt', 'x_y_t_1700000000.txt')).json.imported).toBe(2);
    const runs = await importedRuns();
    const dates = runs.map((events) => (events[0] as { source: { date?: string } }).source.date).sort();
    expect(dates).toEqual(['2023-11-14T22:13:20Z', '2025-09-05T21:48:24']);
    const dream = readdirSync(join(dir, 'runs')).find((d) => d.startsWith('opus-opus'))!;
    const { io, out } = captureIO(dir);
    expect(await main(['show', join(dir, 'runs', dream)], io)).toBe(0);
    expect(out().split('\n')[0]).toMatch(/· 2025-09-05 21:48:24 \(imported \d{4}-\d\d-\d\dT/);
  });

  it('reads Windows line endings and a byte-order mark without losing the first turn', async () => {
    writeFileSync(join(dir, 'win.txt'), '\uFEFF### A ###\r\nfirst\r\nline two\r\n\r\n### B ###\r\nsecond\r\n');
    const { json } = await runImport('backrooms', 'win.txt');
    expect(json).toMatchObject({ imported: 1, turns: 2 });
    const [events] = await importedRuns();
    expect(turnsOf(events!).map((t) => [t.speaker, t.text])).toEqual([['A', 'first\r\nline two'], ['B', 'second']]);
  });

  it('reads the model pair and template only from names that fit', () => {
    expect(parseBackroomsName('/x/opus_opus_cli_2024-03-20T12-34-56.txt')).toEqual({ lm1: 'opus', lm2: 'opus', template: 'cli', timestamp: '2024-03-20T12-34-56', date: '2024-03-20T12:34:56' });
    // A timestamp that is no date (month 13) keeps its text and gets no date.
    expect(parseBackroomsName('a_b_t_20241301_000000.txt')).toEqual({ lm1: 'a', lm2: 'b', template: 't', timestamp: '20241301_000000' });
    expect(parseBackroomsName('gpt4o_opus_group_chat_20240101_000000.txt')).toMatchObject({ template: 'group_chat', timestamp: '20240101_000000' });
    expect(parseBackroomsName('my_notes.txt')).toBeUndefined();
    expect(parseBackroomsName('a_b_c.txt')).toBeUndefined();
  });
});

describe('arena import sharegpt and jsonl', () => {
  it('imports each ShareGPT conversation as a run, keeping the system prompt out of the turns', async () => {
    writeFileSync(join(dir, 'set.json'), JSON.stringify([
      { id: 'c1', conversations: [{ from: 'system', value: 'be nice' }, { from: 'human', value: 'hi' }, { from: 'gpt', value: 'hello' }, { from: 'human', value: 'bye' }] },
      { id: 'c2', messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }] },
      { id: 'c3', conversations: [] },
    ]));
    writeFileSync(join(dir, 'broken.json'), '{"conversations": [{"from": "human"}]}');
    writeFileSync(join(dir, 'lines.jsonl'), '{"conversations": [{"from": "human", "value": "x"}]}\nnot json\n{"conversations": [{"from": "gpt"}]}\n');
    const { json } = await runImport('sharegpt', 'set.json', 'broken.json', 'lines.jsonl');
    expect(json.imported).toBe(3);
    expect(json.turns).toBe(6);
    expect(json.skipped).toEqual([
      { path: `${join(dir, 'set.json')}#3`, reason: 'no turns' },
      { path: join(dir, 'broken.json'), reason: 'conversations[0]: needs string fields {from, value} or {role, content}' },
      { path: `${join(dir, 'lines.jsonl')}#2`, reason: 'line 2: not valid JSON' },
      { path: `${join(dir, 'lines.jsonl')}#3`, reason: 'line 3: conversations[0]: needs string fields {from, value} or {role, content}' },
    ]);
    const runs = await importedRuns();
    const byFirst = new Map(runs.map((r) => [turnsOf(r)[0]!.text, r]));
    expect(turnsOf(byFirst.get('hi')!).map((t) => [t.speaker, t.text])).toEqual([['human', 'hi'], ['gpt', 'hello'], ['human', 'bye']]);
    expect(byFirst.get('hi')![0]).toMatchObject({ scenario: { name: 'sharegpt', system: 'be nice' }, source: { format: 'sharegpt', id: 'c1', index: 0 } });
    expect(turnsOf(byFirst.get('q')!).map((t) => t.speaker)).toEqual(['user', 'assistant']);
  });

  it('imports a {speaker, text} JSONL file as one run and skips a file with a bad line', async () => {
    const lines = [{ speaker: 'Ava', text: 'one' }, { speaker: 'Bo', text: 'two\nlines' }, { speaker: 'Ava', text: 'three' }];
    writeFileSync(join(dir, 'talk.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    writeFileSync(join(dir, 'bad.jsonl'), '{"speaker":"A","text":"x"}\n{"speaker":"B"}\n');
    const { code, json } = await runImport('jsonl', '.');
    expect(code).toBe(0);
    expect(json.imported).toBe(1);
    expect(json.skipped).toEqual([{ path: join(dir, 'bad.jsonl'), reason: 'line 2: text: Invalid input: expected string, received undefined' }]);
    const [events] = await importedRuns();
    expect(turnsOf(events!).map((t) => [t.speaker, t.text])).toEqual(lines.map((l) => [l.speaker, l.text]));
  });

  it('exits 2 on an unknown format and when nothing could be imported', async () => {
    const { io, err } = captureIO(dir);
    expect(await main(['import', 'csv', 'x', '--runs-dir', 'runs'], io)).toBe(2);
    expect(err()).toContain('backrooms, sharegpt, jsonl');
    writeFileSync(join(dir, 'empty.txt'), '');
    expect((await runImport('backrooms', 'empty.txt')).code).toBe(2);
  });

  it('makes imported runs minable by stats, grouped by template and model pair', async () => {
    writeFileSync(join(dir, 'opus_opus_cli_1.txt'), '### explorer ###\nconsciousness 🌀\n### cli ###\nconsciousness\n');
    writeFileSync(join(dir, 'opus_opus_cli_2.txt'), '### explorer ###\nhello\n### cli ###\nok\n');
    await runImport('backrooms', '.');
    const { io, out } = captureIO(dir);
    expect(await main(['stats', 'runs', '--words', 'consciousness', '--json'], io)).toBe(0);
    const g = (lastJson(out()) as { groups: { key: string; runs: number; turns: number; words: unknown[] }[] }).groups;
    expect(g).toEqual([expect.objectContaining({ key: 'backrooms cli · opus × opus', runs: 2, turns: 4, words: [{ word: 'consciousness', meanPerRun: 1, shareOfRuns: 0.5, max: 2 }] })]);
  });
});
