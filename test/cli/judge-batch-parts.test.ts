import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatProgress } from '../../src/batch/progress.js';
import { readRunLog } from '../../src/runlog/reader.js';
import { findRunLogs } from '../../src/runlog/layout.js';
import { fakeServer, type ReceivedRequest, type Reply } from '../agents/_fake-server.js';
import { runMain } from '../helpers/main-in-process.js';
import { tempDir } from '../helpers/tmp-dir.js';
import { openAIJudgeReply } from '../judge/_openai-completion.js';
import { writeScenario } from './_scenario.js';

const KEY = 'sk-judge-parts-test-77aa01';

function absent(req: ReceivedRequest): Reply {
  const body = req.body as { response_format: { json_schema: { schema: { properties: { attractors: { items: { properties: { name: { enum: string[] } } } } } } } } };
  const names = body.response_format.json_schema.schema.properties.attractors.items.properties.name.enum;
  return openAIJudgeReply(JSON.stringify({ attractors: names.map((name) => ({ name, present: false, onsetTurn: null, confidence: 0.7, evidence: '' })) }));
}

async function oneRun(ctx: Parameters<typeof tempDir>[0], maxTurns: number) {
  const dir = tempDir(ctx);
  const file = writeScenario(dir, { maxTurns, chunkDelayMs: 0 });
  const made = await runMain(['run', file, '--runs-dir', join(dir, 'runs'), '--json'], dir);
  expect(made.code, made.err).toBe(0);
  const server = await fakeServer();
  server.respond(absent);
  return { dir, server, env: { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: server.url } };
}

describe.concurrent('arena judge on the batch machinery', () => {
  it('shows the batch progress line, counting windows', async (ctx) => {
    const { dir, env } = await oneRun(ctx, 4);
    const res = await runMain(['judge', 'runs', '--judge', 'openai:gpt-4o-mini', '--window', '2', '--json'], dir, env);
    ctx.expect(res.code, res.err).toBe(0);
    const lines = res.err.split('\n').filter((l) => l.startsWith('['));
    // Not a terminal: the first state, then the last on its own line.
    ctx.expect(lines.at(-1)).toMatch(/^\[#{20}\] 2\/2 windows done · 0 running · 0 failed · [\d.]+ windows\/s · \$0\.0003 · ETA 0s$/u);
    ctx.expect(lines[0]).toMatch(/^\[\.{20}\] 0\/2 windows done · 0 running · 0 failed · 0\.0 windows\/s · \$0\.0000 · ETA \?$/u);
  });

  it('--budget projects the next window from the mean cost so far, as a batch projects its next run', async (ctx) => {
    const { dir, server, env } = await oneRun(ctx, 5);
    // A window costs $0.000156 (800 in, 60 out on gpt-4o-mini): two fit in $0.0004, a third would not.
    const res = await runMain(['judge', 'runs', '--judge', 'openai:gpt-4o-mini', '--window', '1', '--concurrency', '1', '--budget', '0.0004', '--quiet', '--json'], dir, env);
    ctx.expect(res.code, res.err).toBe(0);
    const out = JSON.parse(res.out.trimEnd().split('\n').at(-1)!) as { judged: number; budgetStopped: number; costUsd: number };
    ctx.expect(out).toMatchObject({ judged: 2, budgetStopped: 3 });
    ctx.expect(out.costUsd).toBeLessThanOrEqual(0.0004);
    ctx.expect(server.requests).toHaveLength(2);
    const [file] = await findRunLogs([join(dir, 'runs')]);
    ctx.expect((await readRunLog(file!)).events.filter((e) => e.type === 'judgement')).toHaveLength(2);
  });

  it('formatProgress keeps the batch line by default and names other units when asked', () => {
    const snap = { planned: 10, done: 3, failed: 1, skipped: 0, interrupted: 0, running: 2, turns: 0, turnsPerSec: 0.5, costUsd: 0.01234, etaSec: 12 };
    expect(formatProgress(snap)).toBe('[########............] 3/10 done · 2 running · 1 failed · 0.5 turns/s · $0.01 · ETA 12s');
    expect(formatProgress(snap, 20, { unit: 'windows', rate: 'windows/s', costDigits: 4 })).toBe(
      '[########............] 3/10 windows done · 2 running · 1 failed · 0.5 windows/s · $0.0123 · ETA 12s',
    );
  });
});
