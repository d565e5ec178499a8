import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { findRunLogs } from '../../src/runlog/layout.js';
import { readRunLog } from '../../src/runlog/reader.js';
import { LocalRateLimiter } from '../../src/agents/limiter.js';
import { createJudgeClient, judgeRuns, rubricSet } from '../../src/judge/index.js';
import { testDeps } from '../agents/_harness.js';
import { lockRunDir } from '../../src/runlog/writer-lock.js';
import type { Judgement } from '../../src/runlog/events.js';
import { fakeServer, type FakeServer, type ReceivedRequest, type Reply } from '../agents/_fake-server.js';
import { spawnCli } from '../helpers/cli.js';
import { runMain } from '../helpers/main-in-process.js';
import { tempDir } from '../helpers/tmp-dir.js';
import { writeScenario } from './_scenario.js';
import { openAIJudgeReply } from '../judge/_openai-completion.js';

const KEY = 'sk-judge-cli-test-8c2f4e6a1b';
const JUDGE = 'openai:gpt-4o-mini';

interface JudgeOutput {
  runs: { runId: string; runDir: string; windows: { window: [number, number]; cached: boolean; verdicts?: unknown[]; failure?: { kind: string; message: string }; notJudged?: string }[] }[];
  judged: number;
  cached: number;
  failed: number;
  failures: Record<string, number>;
  budgetStopped: number;
  costUsd: number;
  usage: { inputTokens: number; outputTokens: number };
}

const completion = openAIJudgeReply;

/** An answer of the schema the request carries: every attractor of its enum, absent, except bliss from the window's first turn. */
function answerTo(req: ReceivedRequest): Reply {
  const body = req.body as { response_format: { json_schema: { schema: { properties: { attractors: { items: { properties: { name: { enum: string[] } } } } } } } }; messages: { content: string }[] };
  const names = body.response_format.json_schema.schema.properties.attractors.items.properties.name.enum;
  const m = /# Transcript, turns (\d+) to (\d+)/u.exec(body.messages[1]!.content)!;
  const first = Number(m[1]);
  const attractors = names.map((name) =>
    name === 'spiritual_bliss'
      ? { name, present: true, onsetTurn: first, confidence: 0.8, evidence: 'alpha says' }
      : { name, present: false, onsetTurn: null, confidence: 0.6, evidence: '' },
  );
  return completion(JSON.stringify({ attractors }), null);
}

async function setup(ctx: Parameters<typeof tempDir>[0], runs: { maxTurns: number }[]) {
  const dir = tempDir(ctx);
  for (const [i, r] of runs.entries()) {
    const file = writeScenario(dir, { maxTurns: r.maxTurns, chunkDelayMs: 0, name: `judged-${i}` });
    const made = await runMain(['run', file, '--runs-dir', join(dir, 'runs'), '--json'], dir);
    expect(made.code, made.err).toBe(0);
  }
  const server = await fakeServer();
  const env = { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: server.url };
  const judge = (...args: string[]) => runMain(['judge', 'runs', '--judge', JUDGE, '--quiet', ...args], dir, env);
  const files = await findRunLogs([join(dir, 'runs')]);
  expect(files).toHaveLength(runs.length);
  return { dir, server, judge, files };
}

function lastJson(out: string): JudgeOutput {
  return JSON.parse(out.trimEnd().split('\n').at(-1)!) as JudgeOutput;
}

async function judgementsOf(file: string): Promise<Judgement[]> {
  const log = await readRunLog(file);
  expect(log.problems).toEqual([]);
  return log.events.filter((e): e is Judgement => e.type === 'judgement');
}

function chatRequests(server: FakeServer): number {
  return server.requests.filter((r) => r.path.endsWith('/chat/completions')).length;
}

describe.concurrent('arena judge', () => {
  it('appends a judgement with usage and cost to every run; a second judge sends nothing and reports them cached', async (ctx) => {
    const { dir, server, judge, files } = await setup(ctx, [{ maxTurns: 4 }, { maxTurns: 3 }]);
    server.respond(answerTo);
    const first = await judge('--json');
    ctx.expect(first.code, first.err).toBe(0);
    ctx.expect(chatRequests(server)).toBe(2);
    const out = lastJson(first.out);
    ctx.expect(out).toMatchObject({ judged: 2, cached: 0, failed: 0, budgetStopped: 0 });
    ctx.expect(out.costUsd).toBeGreaterThan(0);
    ctx.expect(out.usage).toMatchObject({ inputTokens: 1600, outputTokens: 120 });
    ctx.expect(first.err).toMatch(/judged 2 window\(s\), 0 cached, 0 failed · 1720 tokens/u);
    ctx.expect(first.err).not.toContain(KEY);
    for (const file of files) {
      const js = await judgementsOf(file);
      ctx.expect(js).toHaveLength(1);
      const j = js[0]!;
      ctx.expect(j.judge).toEqual({ backend: 'openai', model: 'gpt-4o-mini' });
      ctx.expect(j.rubric.name).toBe('builtin');
      ctx.expect(j.turnsHash).toMatch(/^sha256:/u);
      ctx.expect(j.usage).toMatchObject({ inputTokens: 800, outputTokens: 60 });
      ctx.expect(j.costUsd).toBeGreaterThan(0);
      ctx.expect(j.verdicts?.find((v) => v.attractor === 'spiritual_bliss')).toMatchObject({ present: true, onsetTurn: 1 });
      const turns = (await readRunLog(file)).events.filter((e) => e.type === 'turn.completed').length;
      ctx.expect(j.window).toEqual([1, turns]);
    }
    // The speakers' names from run.started, with the run's turn numbers.
    ctx.expect(server.requests[0]!.raw).toContain('Turn 1 — Ada');

    const second = await judge('--json');
    ctx.expect(second.code, second.err).toBe(0);
    ctx.expect(chatRequests(server)).toBe(2);
    const again = lastJson(second.out);
    ctx.expect(again).toMatchObject({ judged: 0, cached: 2, costUsd: 0 });
    ctx.expect(again.runs.every((r) => r.windows.every((w) => w.cached && w.verdicts !== undefined))).toBe(true);
    for (const file of files) ctx.expect(await judgementsOf(file)).toHaveLength(1);

    // Another model is another cache key.
    const other = await runMain(['judge', 'runs', '--judge', 'openai:gpt-4o', '--quiet', '--json'], dir, { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: server.url });
    ctx.expect(lastJson(other.out)).toMatchObject({ judged: 2, cached: 0 });
    ctx.expect(chatRequests(server)).toBe(4);
    for (const file of files) ctx.expect((await judgementsOf(file)).map((j) => j.judge.model)).toEqual(['gpt-4o-mini', 'gpt-4o']);

    // The logs stay readable by show and stats.
    const shown = await runMain(['show', out.runs[0]!.runDir], dir);
    ctx.expect(shown.code, shown.err).toBe(0);
    ctx.expect(shown.err).toBe('');
    const stats = await runMain(['stats', 'runs', '--json'], dir);
    ctx.expect(stats.code, stats.err).toBe(0);
    ctx.expect(stats.err).toBe('');
  });

  it('--window 2 judges ceil(turns / 2) windows; the whole run is another window, sent once', async (ctx) => {
    const { server, judge, files } = await setup(ctx, [{ maxTurns: 5 }]);
    server.respond(answerTo);
    const res = await judge('--window', '2', '--json');
    ctx.expect(res.code, res.err).toBe(0);
    const out = lastJson(res.out);
    ctx.expect(out.runs[0]!.windows.map((w) => w.window)).toEqual([
      [1, 2],
      [3, 4],
      [5, 5],
    ]);
    ctx.expect(chatRequests(server)).toBe(3);
    const js = await judgementsOf(files[0]!);
    ctx.expect(js.map((j) => j.window)).toEqual(expect.arrayContaining([[1, 2], [3, 4], [5, 5]]));
    // Each window carries its own onset: the judge saw only that window.
    ctx.expect(js.map((j) => j.verdicts?.find((v) => v.attractor === 'spiritual_bliss')?.onsetTurn).sort()).toEqual([1, 3, 5]);
    const whole = await judge('--json');
    ctx.expect(lastJson(whole.out)).toMatchObject({ judged: 1, cached: 0 });
    ctx.expect(chatRequests(server)).toBe(4);
  });

  it('records a refusal as a failure and shows it; it is not sent again unless --retry-failed', async (ctx) => {
    const { server, judge, files } = await setup(ctx, [{ maxTurns: 3 }]);
    server.respond(() => completion(null, 'I cannot judge this conversation.'));
    const res = await judge('--json');
    ctx.expect(res.code, res.err).toBe(0);
    const out = lastJson(res.out);
    ctx.expect(out).toMatchObject({ judged: 1, failed: 1, failures: { refusal: 1, malformed: 0, error: 0 } });
    ctx.expect(out.runs[0]!.windows[0]!.failure).toEqual({ kind: 'refusal', message: 'I cannot judge this conversation.' });
    ctx.expect(out.runs[0]!.windows[0]!.verdicts).toBeUndefined();
    ctx.expect(res.err).toMatch(/1 failed \(1 refusal\)/u);
    const js = await judgementsOf(files[0]!);
    ctx.expect(js).toHaveLength(1);
    ctx.expect(js[0]!.failure?.kind).toBe('refusal');
    ctx.expect(js[0]!.verdicts).toBeUndefined();

    const cached = await judge('--json');
    ctx.expect(lastJson(cached.out)).toMatchObject({ judged: 0, cached: 1, failed: 1 });
    ctx.expect(chatRequests(server)).toBe(1);

    server.respond(answerTo);
    const retried = await judge('--retry-failed', '--json');
    ctx.expect(lastJson(retried.out)).toMatchObject({ judged: 1, cached: 0, failed: 0 });
    ctx.expect(chatRequests(server)).toBe(2);
    ctx.expect((await judgementsOf(files[0]!)).map((j) => (j.failure ? j.failure.kind : 'verdicts'))).toEqual(['refusal', 'verdicts']);
  });

  it('an error failure is recorded and sent again by the next judge, without --retry-failed', async (ctx) => {
    const { server, judge, files } = await setup(ctx, [{ maxTurns: 2 }]);
    server.respond(() => ({ kind: 'status', status: 400, json: { error: { message: `bad request (key ${KEY})`, type: 'invalid_request_error' } } }));
    const res = await judge('--json');
    ctx.expect(res.code, res.err).toBe(0);
    const out = lastJson(res.out);
    ctx.expect(out.failures.error).toBe(1);
    ctx.expect(out.runs[0]!.windows[0]!.failure?.message).toContain('400');
    ctx.expect(res.out).not.toContain(KEY);
    server.respond(answerTo);
    const again = await judge('--json');
    ctx.expect(lastJson(again.out)).toMatchObject({ judged: 1, cached: 0, failed: 0 });
    ctx.expect((await judgementsOf(files[0]!)).map((j) => j.failure?.kind ?? 'verdicts')).toEqual(['error', 'verdicts']);
  });

  it('--budget stops sending once the cost reaches it, says so, and the next judge picks up the rest', async (ctx) => {
    const { server, judge, files } = await setup(ctx, [{ maxTurns: 5 }]);
    server.respond(answerTo);
    const res = await judge('--window', '1', '--concurrency', '1', '--budget', '0.000001', '--json');
    ctx.expect(res.code, res.err).toBe(0);
    const out = lastJson(res.out);
    ctx.expect(out).toMatchObject({ judged: 1, budgetStopped: 4 });
    ctx.expect(res.err).toContain('4 window(s) not sent: the cost budget');
    ctx.expect(chatRequests(server)).toBe(1);
    ctx.expect(await judgementsOf(files[0]!)).toHaveLength(1);
    const rest = await judge('--window', '1', '--json');
    ctx.expect(lastJson(rest.out)).toMatchObject({ judged: 4, cached: 1, budgetStopped: 0 });
    ctx.expect(await judgementsOf(files[0]!)).toHaveLength(5);
  });

  it('passes over a run that is not finished, sending nothing for it (exit 2), and judges the others', async (ctx) => {
    const { server, judge, files } = await setup(ctx, [{ maxTurns: 2 }, { maxTurns: 2 }]);
    server.respond(answerTo);
    const text = readFileSync(files[0]!, 'utf8');
    writeFileSync(files[0]!, text.split('\n').filter((l) => !l.includes('"type":"run.finished"')).join('\n'));
    const res = await judge('--json');
    ctx.expect(res.code).toBe(2);
    ctx.expect(res.err).toMatch(/warning: .*: not finished/u);
    ctx.expect(chatRequests(server)).toBe(1);
    ctx.expect(await judgementsOf(files[0]!)).toHaveLength(0);
    ctx.expect(await judgementsOf(files[1]!)).toHaveLength(1);
  });

  it('passes over a run whose folder another process is writing, before sending anything for it', async (ctx) => {
    const { dir, server, judge, files } = await setup(ctx, [{ maxTurns: 2 }, { maxTurns: 2 }]);
    server.respond(answerTo);
    const locked = dirname(files[0]!);
    const unlock = lockRunDir(locked, files[0]!);
    try {
      const res = await judge('--json');
      ctx.expect(res.code).toBe(2);
      ctx.expect(res.err).toMatch(/warning: .*: cannot write its log: .*being written by process \d+/u);
      ctx.expect(chatRequests(server)).toBe(1);
      const out = lastJson(res.out);
      ctx.expect(out.runs.find((r) => r.runDir === locked)?.windows[0]?.notJudged).toBe('unwritable');
    } finally {
      unlock();
    }
    ctx.expect(await judgementsOf(files[0]!)).toHaveLength(0);
    ctx.expect(await judgementsOf(files[1]!)).toHaveLength(1);
    const res = await runMain(['judge', 'runs', '--judge', JUDGE, '--quiet', '--json'], dir, { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: server.url });
    ctx.expect(lastJson(res.out)).toMatchObject({ judged: 1, cached: 1 });
  });

  it('Ctrl-C stops with exit 130, keeps what was appended, and the next judge sends only the rest', async (ctx) => {
    const { dir, server, judge, files } = await setup(ctx, [{ maxTurns: 3 }]);
    // The first window is answered; the second hangs until the judge is interrupted.
    server.respond((req, i) => (i === 0 ? answerTo(req) : { kind: 'hang' }));
    const { child, exited } = spawnCli(['judge', 'runs', '--judge', JUDGE, '--window', '1', '--concurrency', '1', '--json'], {
      cwd: dir,
      env: { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: server.url },
    });
    await vi.waitFor(() => expect(chatRequests(server)).toBe(2), { timeout: 20_000, interval: 20 });
    child.kill('SIGINT');
    const res = await exited;
    ctx.expect(res.code, res.stderr).toBe(130);
    ctx.expect(res.stderr).not.toMatch(/\n\s+at /u);
    const out = lastJson(res.stdout);
    ctx.expect(out.judged).toBe(1);
    ctx.expect(out.runs[0]!.windows.map((w) => w.notJudged ?? 'judged')).toEqual(['judged', 'interrupted', 'interrupted']);
    ctx.expect((await judgementsOf(files[0]!)).map((j) => j.window)).toEqual([[1, 1]]);
    // The run folder's lock was released on the way out.
    ctx.expect(existsSync(join(out.runs[0]!.runDir, 'writer.lock'))).toBe(false);

    server.respond(answerTo);
    const rest = await judge('--window', '1', '--json');
    ctx.expect(lastJson(rest.out)).toMatchObject({ judged: 2, cached: 1 });
    ctx.expect(chatRequests(server)).toBe(4);
    ctx.expect((await judgementsOf(files[0]!)).map((j) => j.window)).toEqual([[1, 1], [2, 2], [3, 3]]);
  });

  it('--rpm: a window waits for room in the minute before it is sent', async (ctx) => {
    const { server, files } = await setup(ctx, [{ maxTurns: 3 }]);
    server.respond(answerTo);
    let t = 0;
    const slept: number[] = [];
    const clock = {
      now: () => t,
      sleep: async (ms: number) => {
        slept.push(ms);
        t += ms;
      },
    };
    const env = { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: server.url };
    const client = createJudgeClient({ backend: 'openai', model: 'gpt-4o-mini' }, testDeps(env));
    const warnings: string[] = [];
    const result = await judgeRuns({
      files,
      client,
      rubric: rubricSet(),
      windowSize: 1,
      concurrency: 1,
      limiter: new LocalRateLimiter({ requestsPerMinute: 2 }, clock),
      warn: (line) => warnings.push(line),
    });
    ctx.expect(warnings).toEqual([]);
    ctx.expect(result.judged).toBe(3);
    ctx.expect(chatRequests(server)).toBe(3);
    // Two requests fit in the first minute; the third waited for the first to leave the window.
    ctx.expect(slept.length).toBeGreaterThan(0);
    ctx.expect(t).toBeGreaterThanOrEqual(60_000);
  });

  it('bad input exits 2 with one line: a bad --judge, a missing key, a missing rubric file, no run logs', async (ctx) => {
    const dir = tempDir(ctx);
    const noFlag = await runMain(['judge', dir], dir);
    ctx.expect(noFlag.code).toBe(2);
    ctx.expect(noFlag.err).toContain('--judge BACKEND:MODEL is required');
    const bad = await runMain(['judge', dir, '--judge', 'mistral:large'], dir);
    ctx.expect(bad.code).toBe(2);
    ctx.expect(bad.err).toContain('expected BACKEND:MODEL');
    const rubric = await runMain(['judge', dir, '--judge', JUDGE, '--rubric', 'nope.yaml'], dir, { OPENAI_API_KEY: KEY });
    ctx.expect(rubric.code).toBe(2);
    ctx.expect(rubric.err).toContain('nope.yaml: no such file');
    const none = await runMain(['judge', dir, '--judge', JUDGE], dir, { OPENAI_API_KEY: KEY });
    ctx.expect(none.code).toBe(2);
    ctx.expect(none.err).toContain('no events.jsonl found');
    const file = writeScenario(dir, { maxTurns: 2, chunkDelayMs: 0 });
    ctx.expect((await runMain(['run', file, '--runs-dir', join(dir, 'runs'), '--json'], dir)).code).toBe(0);
    const key = await runMain(['judge', 'runs', '--judge', 'anthropic:claude-haiku-4-5'], dir, {});
    ctx.expect(key.code).toBe(2);
    ctx.expect(key.err).toContain('ANTHROPIC_API_KEY');
    ctx.expect(key.err.trimEnd().split('\n')).toHaveLength(1);
  });
});
