import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeVector } from '../../src/analysis/vectors.js';
import { main } from '../../src/cli/main.js';
import type { ArenaEvent, EventBody } from '../../src/runlog/events.js';
import { RunLogWriter } from '../../src/runlog/writer.js';
import { captureIO, lastJson, writeRun } from './_runs.js';

let dir: string;

/** A run whose turns carry embedding events (as the analysis writes them), with known vectors. */
function writeEmbeddedRun(runId: string, vectors: number[][]): void {
  const w = RunLogWriter.open(join(dir, 'runs', runId));
  let seq = 0;
  const put = (body: EventBody) => w.append({ v: 1, seq: ++seq, ts: '2026-01-01T00:00:00.000Z', runId, ...body } as ArenaEvent);
  put({ type: 'run.started', scenario: { name: 'emb' }, agents: [{ id: 'a', name: 'A', backend: 'scripted', model: 'm' }, { id: 'b', name: 'B', backend: 'scripted', model: 'm' }], seed: 1, limits: { maxTurns: 10 } });
  vectors.forEach((v, i) => {
    const turn = i + 1;
    const agentId = turn % 2 ? 'a' : 'b';
    put({ type: 'turn.completed', turn, agentId, text: `t${turn}`, finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 1 }, costUsd: 0, latencyMs: 1, attempts: 1 });
    put({ type: 'embedding', turn, agentId, model: 'use-lite', dims: v.length, vector: encodeVector(Float32Array.from(v)) });
  });
  put({ type: 'run.finished', status: 'completed', stopReason: 'maxTurns', turns: vectors.length, totals: { inputTokens: 0, outputTokens: 0, costUsd: 0, failedAttempts: 0, wallTimeMs: 1 } });
  w.close();
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'export-emb-'));
  writeEmbeddedRun('emb1', [[0.5, -0.25, 1], [0, 1, 0.125]]);
  writeEmbeddedRun('emb2', [[1, 0, 0]]);
  writeRun(join(dir, 'runs'), { runId: 'plain', turns: 2 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('arena export --parquet: embeddings', () => {
  it('writes every embedded turn with its vector as a FLOAT list that reads back exactly', async () => {
    const { io, out, err } = captureIO(dir);
    expect(await main(['export', '--parquet', 'pq', 'runs', '--json'], io), err()).toBe(0);
    const res = lastJson(out()) as { files: string[]; embeddings: number };
    expect(res.embeddings).toBe(3);
    expect(res.files.at(-1)).toBe(join(dir, 'pq', 'embeddings.parquet'));
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    try {
      const rows = (await c.runAndReadAll(`SELECT runId, turn, agentId, model, dims, vector::DOUBLE[] FROM read_parquet('${join(dir, 'pq', 'embeddings.parquet')}') ORDER BY runId, turn`)).getRowsJson();
      expect(rows).toEqual([
        ['emb1', 1, 'a', 'use-lite', 3, [0.5, -0.25, 1]],
        ['emb1', 2, 'b', 'use-lite', 3, [0, 1, 0.125]],
        ['emb2', 1, 'a', 'use-lite', 3, [1, 0, 0]],
      ]);
    } finally {
      c.closeSync();
      db.closeSync();
    }
  });
});
