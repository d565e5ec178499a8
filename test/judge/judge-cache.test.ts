import { cpSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRunLog } from '../../src/runlog/reader.js';
import { fakeServer, type ReceivedRequest, type Reply } from '../agents/_fake-server.js';
import { runMain } from '../helpers/main-in-process.js';
import { tempDir } from '../helpers/tmp-dir.js';
import { writeScenario } from '../cli/_scenario.js';
import { openAIJudgeReply } from './_openai-completion.js';

const KEY = 'sk-judge-cache-test-41d7c2';

/** A valid answer to the request's schema: spiritual_bliss present from the window's first turn, the rest absent. */
function answerTo(req: ReceivedRequest): Reply {
  const body = req.body as { response_format: { json_schema: { schema: { properties: { attractors: { items: { properties: { name: { enum: string[] } } } } } } } }; messages: { content: string }[] };
  const names = body.response_format.json_schema.schema.properties.attractors.items.properties.name.enum;
  const first = Number(/# Transcript, turns (\d+) to (\d+)/u.exec(body.messages[1]!.content)![1]);
  return openAIJudgeReply(JSON.stringify({ attractors: names.map((name) => (name === 'spiritual_bliss' ? { name, present: true, onsetTurn: first, confidence: 0.8, evidence: 'alpha says' } : { name, present: false, onsetTurn: null, confidence: 0.6, evidence: '' })) }));
}

interface Out {
  judged: number;
  cached: number;
  replayed: number;
  costUsd: number;
  failed: number;
  runs: { windows: { window: [number, number]; replayed?: boolean; verdicts?: unknown[] }[] }[];
}

/** A finished scripted run of 6 turns, and a fresh copy of its folder (no judgements in either). */
async function twoCopies(dir: string): Promise<{ first: string; copy: string }> {
  const file = writeScenario(dir, { maxTurns: 6, chunkDelayMs: 0, name: 'cached' });
  const made = await runMain(['run', file, '--runs-dir', join(dir, 'first'), '--json', '--quiet'], dir);
  expect(made.code, made.err).toBe(0);
  const [runId] = readdirSync(join(dir, 'first'));
  cpSync(join(dir, 'first', runId!), join(dir, 'copy', runId!), { recursive: true });
  return { first: join(dir, 'first', runId!), copy: join(dir, 'copy', runId!) };
}

async function judgementsIn(runDir: string) {
  const log = await readRunLog(join(runDir, 'events.jsonl'));
  expect(log.problems).toEqual([]);
  return log.events.filter((e) => e.type === 'judgement');
}

describe('arena judge --cache', () => {
  it('answers a copy of a judged run from the cache: no request, cost 0, the usage and verdicts recorded with the answer', async (ctx) => {
    const dir = tempDir(ctx);
    const { first, copy } = await twoCopies(dir);
    const server = await fakeServer();
    server.respond(answerTo);
    const env = { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: server.url };
    const judge = (target: string) => runMain(['judge', target, '--judge', 'openai:gpt-4o-mini', '--window', '3', '--cache', 'judge-cache', '--quiet', '--json'], dir, env);

    const one = await judge(first);
    expect(one.code, one.err).toBe(0);
    const sent = server.requests.length;
    expect(sent).toBe(2);
    const out1 = JSON.parse(one.out.trim().split('\n').at(-1)!) as Out;
    expect(out1).toMatchObject({ judged: 2, cached: 0, replayed: 0 });
    expect(out1.costUsd).toBeGreaterThan(0);

    // The copy's log holds no judgement, so its windows are sent again: the cache answers them.
    const two = await judge(copy);
    expect(two.code, two.err).toBe(0);
    expect(server.requests.length).toBe(sent);
    const out2 = JSON.parse(two.out.trim().split('\n').at(-1)!) as Out;
    expect(out2).toMatchObject({ judged: 2, cached: 0, replayed: 2, costUsd: 0, failed: 0 });
    expect(out2.runs[0]!.windows.map((w) => w.replayed)).toEqual([true, true]);
    expect(two.err).toContain('(2 answered from the --cache folder)');

    const original = await judgementsIn(first);
    const replayed = await judgementsIn(copy);
    expect(replayed).toHaveLength(2);
    for (const j of replayed) {
      // Windows are judged side by side and appended as they are answered: match them by window.
      const o = original.find((x) => x.window[0] === j.window[0])!;
      expect(j).toMatchObject({ window: o.window, verdicts: o.verdicts, usage: o.usage, costUsd: 0, replay: true });
      expect(o.costUsd).toBeGreaterThan(0);
      expect(o.replay).toBeUndefined();
    }
    // The log line says it was a replay, as a replayed turn's does (the original's does not).
    const lines = (runDir: string) => readFileSync(join(runDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; replay?: boolean });
    expect(lines(copy).filter((e) => e.type === 'judgement').map((e) => e.replay)).toEqual([true, true]);
    expect(replayed.map((j) => j.window[0]).sort()).toEqual([1, 4]);
    expect(lines(first).filter((e) => e.type === 'judgement').map((e) => e.replay)).toEqual([undefined, undefined]);
    // No key in the cache's files.
    const entries = readdirSync(join(dir, 'judge-cache'), { recursive: true }).map(String).filter((f) => f.endsWith('.json'));
    expect(entries).toHaveLength(2);
    for (const f of entries) expect(readFileSync(join(dir, 'judge-cache', f), 'utf8')).not.toContain(KEY);
  });

  it('keeps only answers that validated: a malformed answer is asked for again next time', async (ctx) => {
    const dir = tempDir(ctx);
    const { first, copy } = await twoCopies(dir);
    const server = await fakeServer();
    server.respond(() => openAIJudgeReply('{"attractors": "not a list"}'));
    const env = { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: server.url };
    const judge = (target: string) => runMain(['judge', target, '--judge', 'openai:gpt-4o-mini', '--cache', 'judge-cache', '--quiet', '--json'], dir, env);

    const one = await judge(first);
    expect(one.code, one.err).toBe(0);
    expect(JSON.parse(one.out.trim().split('\n').at(-1)!)).toMatchObject({ judged: 1, failed: 1, failures: { malformed: 1 } });
    // One window, three tries (two more after the first malformed answer), all sent.
    expect(server.requests).toHaveLength(3);

    server.respond(answerTo);
    const two = await judge(copy);
    expect(two.code, two.err).toBe(0);
    expect(server.requests).toHaveLength(4);
    expect(JSON.parse(two.out.trim().split('\n').at(-1)!)).toMatchObject({ judged: 1, failed: 0, replayed: 0 });
    expect((await judgementsIn(copy))[0]).toMatchObject({ verdicts: expect.any(Array) });
  });
});
