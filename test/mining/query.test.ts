import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { captureIO, lastJson, writeRun } from './_runs.js';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'query-'));
  for (let i = 0; i < 5; i++) writeRun(join(dir, 'runs', 'batch'), { runId: `free-${i}`, scenario: 'free', texts: ["it's consciousness", 'all the way down', 'spiral'], ...(i < 2 ? { entered: { bliss: 2 + i } } : {}), ...(i === 4 ? { failedTurns: 1 } : {}) });
  writeRun(join(dir, 'runs'), { runId: 'task-0', scenario: 'task', models: ['gpt', 'opus'], turns: 2, finished: null });
  // A crash left half a line at the end of this log: it is skipped, the rest still counts.
  appendFileSync(join(dir, 'runs', 'task-0', 'events.jsonl'), '{"v":1,"seq":99,"ts":"x","runId":"task-0","type":"turn.comp');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function query(sql: string): Promise<{ columns: string[]; rows: unknown[][] }> {
  const { io, out, err } = captureIO(dir);
  const code = await main(['query', sql, 'runs', '--json'], io);
  expect(code, err()).toBe(0);
  return lastJson(out()) as { columns: string[]; rows: unknown[][] };
}

describe('arena query', () => {
  it('exposes runs with their condition, end state, turns and tokens', async () => {
    const r = await query('SELECT scenario, models, status, count(*)::INTEGER AS n, sum(turns)::INTEGER AS turns, sum(failedTurns)::INTEGER AS failed FROM runs GROUP BY ALL ORDER BY scenario');
    expect(r.columns).toEqual(['scenario', 'models', 'status', 'n', 'turns', 'failed']);
    expect(r.rows).toEqual([['free', 'm1 × m2', 'completed', 5, 15, 1], ['task', 'gpt × opus', 'unfinished', 1, 2, 0]]);
  });

  it('exposes turns with speaker and text, and attractor onsets', async () => {
    const turns = await query("SELECT runId, turn, agent, model, text FROM turns WHERE runId = 'free-0' ORDER BY turn");
    expect(turns.rows).toEqual([['free-0', 1, 'A', 'm1', "it's consciousness"], ['free-0', 2, 'B', 'm2', 'all the way down'], ['free-0', 3, 'A', 'm1', 'spiral']]);
    const onsets = await query("SELECT runId, attractor, kind, turn FROM attractors ORDER BY runId");
    expect(onsets.rows).toEqual([['free-0', 'bliss', 'entered', 2], ['free-1', 'bliss', 'entered', 3]]);
  });

  it('prints a readable table by default and turns SQL errors into exit code 2', async () => {
    const ok = captureIO(dir);
    expect(await main(['query', 'SELECT runId, turns FROM runs ORDER BY runId LIMIT 2', 'runs'], ok.io)).toBe(0);
    expect(ok.out()).toMatch(/^runId\s+turns\n-+\s+-+\nfree-0\s+3\nfree-1\s+3\n\(2 rows\)\n$/);
    const bad = captureIO(dir);
    expect(await main(['query', 'SELECT nope FROM runs', 'runs'], bad.io)).toBe(2);
    expect(bad.err()).toMatch(/SQL: .*nope/);
  });
});

describe('arena query over damaged logs', () => {
  let bad: string;
  let file: string;
  beforeAll(() => {
    bad = mkdtempSync(join(tmpdir(), 'query-bad-'));
    writeRun(join(bad, 'runs'), { runId: 'ok', turns: 2 });
    writeRun(join(bad, 'runs'), { runId: 'damaged', turns: 3 });
    file = join(bad, 'runs', 'damaged', 'events.jsonl');
    // Line 15: not JSON. Line 16: JSON that DuckDB would take as a turn (no text, no usage) but is not a valid event.
    appendFileSync(file, '{"v":1,"seq":40,"ts":"x"\n{"v":1,"seq":41,"ts":"x","runId":"damaged","type":"turn.completed","turn":9,"agentId":"a"}\n');
  });
  afterAll(() => rmSync(bad, { recursive: true, force: true }));

  it('warns "file:line: skipped: …" for each line it leaves out, as stats does, and keeps the rest', async () => {
    const q = captureIO(bad);
    expect(await main(['query', 'SELECT runId, count(*) AS turns, max(turn) AS last FROM turns GROUP BY 1 ORDER BY 1', 'runs', '--json'], q.io)).toBe(0);
    expect(lastJson(q.out())).toEqual({ columns: ['runId', 'turns', 'last'], rows: [['damaged', 3, 3], ['ok', 2, 2]] });
    const warnings = q.err().trim().split('\n');
    expect(warnings).toEqual([`warning: ${file}:15: skipped: not valid JSON`, `warning: ${file}:16: skipped: text: Invalid input: expected string, received undefined`]);
    // The rows of the damaged log still carry its own path, not that of a cleaned copy.
    const files = captureIO(bad);
    expect(await main(['query', "SELECT DISTINCT file FROM events WHERE runId = 'damaged'", 'runs', '--json'], files.io)).toBe(0);
    expect(lastJson(files.out())).toEqual({ columns: ['file'], rows: [[file]] });

    const s = captureIO(bad);
    expect(await main(['stats', 'runs'], s.io)).toBe(0);
    expect(s.err().trim().split('\n')).toEqual(warnings);
  });

  it('warns the same way when exporting Parquet', async () => {
    const e = captureIO(bad);
    expect(await main(['export', '--parquet', 'pq', 'runs', '--json'], e.io)).toBe(0);
    expect(lastJson(e.out())).toMatchObject({ runs: 2, turns: 5 });
    expect(e.err()).toContain(`warning: ${file}:15: skipped: not valid JSON\n`);
    expect(e.err()).toContain(`warning: ${file}:16: skipped: text: `);
  });
});

describe('arena query --json numbers', () => {
  it('returns counts and sums as numbers, and only integers beyond 2^53 as text', async () => {
    const r = await query('SELECT count(*) AS n, sum(turns) AS turns, [count(*)] AS list, {n: count(*)} AS obj, 9007199254740993::BIGINT AS big, -5::HUGEINT AS neg FROM runs');
    expect(r.rows).toEqual([[6, 17, [6], { n: 6 }, '9007199254740993', -5]]);
  });
});

describe('arena export --parquet', () => {
  it('reads --runs-dir when no folders are given', async () => {
    const { io, out, err } = captureIO(dir);
    expect(await main(['export', '--parquet', 'pq-default', '--runs-dir', 'runs', '--json'], io), err()).toBe(0);
    expect(lastJson(out())).toMatchObject({ out: join(dir, 'pq-default'), runs: 6, turns: 17 });
  });

  it('writes Parquet files that read back with the same rows', async () => {
    const { io, out } = captureIO(dir);
    expect(await main(['export', '--parquet', 'pq', 'runs', '--json'], io)).toBe(0);
    const res = lastJson(out()) as { files: string[]; runs: number; turns: number };
    expect(res).toMatchObject({ runs: 6, turns: 17 });
    expect(res.files.map((f) => f.slice(join(dir, 'pq').length + 1))).toEqual(['runs.parquet', 'turns.parquet', 'attractors.parquet', 'analysis.parquet', 'embeddings.parquet']);
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    const rows = (await c.runAndReadAll(`SELECT count(*)::INTEGER, count(DISTINCT runId)::INTEGER, min(text) FROM read_parquet('${join(dir, 'pq', 'turns.parquet')}')`)).getRowsJson();
    expect(rows).toEqual([[17, 6, 'all the way down']]);
    c.closeSync();
    db.closeSync();
  });
});
