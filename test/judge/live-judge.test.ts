import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runObservers } from '../../src/app/run-observers.js';
import { loadScenario } from '../../src/arena/load-scenario.js';
import { startRun } from '../../src/arena/run.js';
import { InputError } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import type { ArenaEvent, Judgement } from '../../src/runlog/events.js';
import { readRunLog } from '../../src/runlog/reader.js';
import { fakeServer, type ReceivedRequest, type Reply } from '../agents/_fake-server.js';
import { countType, lastJsonLine, logLines, onlyRunDir, spawnCli, waitForLog } from '../helpers/cli.js';
import { runMain } from '../helpers/main-in-process.js';
import { tempDir } from '../helpers/tmp-dir.js';
import { openAIJudgeCompletion, openAIJudgeReply } from './_openai-completion.js';

const KEY = 'sk-live-judge-test-5d1e9a';

/** The window a judge request carries, read from its prompt. */
function windowOf(req: ReceivedRequest): [number, number] {
  const body = req.body as { messages: { content: string }[] };
  const m = /# Transcript, turns (\d+) to (\d+)/u.exec(body.messages[1]!.content)!;
  return [Number(m[1]), Number(m[2])];
}

function namesOf(req: ReceivedRequest): string[] {
  const body = req.body as { response_format: { json_schema: { schema: { properties: { attractors: { items: { properties: { name: { enum: string[] } } } } } } } } };
  return body.response_format.json_schema.schema.properties.attractors.items.properties.name.enum;
}

/** A valid answer: spiritual_bliss present (confidence 0.9) in windows that reach `fromTurn`, every other attractor absent. */
function blissFrom(fromTurn: number) {
  return (req: ReceivedRequest): Reply => {
    const [first, last] = windowOf(req);
    const attractors = namesOf(req).map((name) =>
      name === 'spiritual_bliss' && last >= fromTurn
        ? { name, present: true, onsetTurn: Math.max(first, Math.min(last, fromTurn)), confidence: 0.9, evidence: 'namaste' }
        : { name, present: false, onsetTurn: null, confidence: 0.8, evidence: '' },
    );
    return openAIJudgeReply(JSON.stringify({ attractors }));
  };
}

interface ScenarioOptions {
  maxTurns: number;
  chunkDelayMs: number;
  judge: string;
  stop?: string;
  extra?: string;
}

/** Two scripted agents (six words a turn, one a chunk) and a live judge section. */
function writeScenario(dir: string, o: ScenarioOptions): string {
  const gen = (who: string) => `{kind: script, loop: true, chunkWords: 1, chunkDelayMs: ${o.chunkDelayMs}, lines: ["${who} says one two three four", "${who} says five six seven eight"]}`;
  const file = join(dir, 'live.yaml');
  writeFileSync(
    file,
    `name: live-judged
seed: 2
detectors: []
agents:
  - id: a
    name: Ada
    backend: scripted
    generator: ${gen('alpha')}
  - id: b
    name: Bea
    backend: scripted
    generator: ${gen('beta')}
limits:
  maxTurns: ${o.maxTurns}
${o.stop ? `stop:\n  onAttractor:\n${o.stop}\n` : ''}judge:
${o.judge}
${o.extra ?? ''}`,
  );
  return file;
}

const judgeSection = (more = '') => `  model: openai:gpt-4o-mini\n  every: 2\n  window: 2\n${more}`;

function judgementsIn(events: readonly ArenaEvent[]): Judgement[] {
  return events.filter((e): e is Judgement => e.type === 'judgement');
}

/** Run a scenario file as `arena run` wires it (observers from the scenario), in this process, with the handle at hand. */
async function runLibrary(file: string, env: Record<string, string>, onEvent?: (e: ArenaEvent) => void) {
  const loaded = await loadScenario(file);
  const observers = await runObservers(loaded.scenario, { scenarioDir: loaded.dir, scenarioFile: file, logger: silentLogger(), env });
  const handle = await startRun({ scenario: loaded.scenario, scenarioDir: loaded.dir, scenarioFile: file, runsDir: join(loaded.dir, 'runs'), env, observers });
  if (onEvent) handle.subscribe(onEvent);
  const result = await handle.done;
  const log = await readRunLog(join(result.runDir, 'events.jsonl'));
  expect(log.problems).toEqual([]);
  return { result, events: log.events };
}

describe.concurrent('live judging', () => {
  it('a judge that finds spiritual_bliss present stops the run through onAttractor, and the log says the judge did it', async (ctx) => {
    const dir = tempDir(ctx);
    const server = await fakeServer();
    server.respond(blissFrom(4));
    const file = writeScenario(dir, {
      maxTurns: 40,
      chunkDelayMs: 15,
      judge: judgeSection(),
      stop: `    - {action: perturb, attractor: spiritual_bliss, messages: ["Back to the budget, please."]}\n    - {action: stop, attractor: spiritual_bliss, afterTurns: 2}`,
    });
    const { result, events } = await runLibrary(file, { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: server.url });
    ctx.expect(result).toMatchObject({ status: 'completed', stopReason: 'judge_attractor' });
    ctx.expect(result.turns).toBeGreaterThanOrEqual(6);
    ctx.expect(result.turns).toBeLessThan(40);

    // One event stream, in seq order, the judgements among the turns and all before run.finished.
    ctx.expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    ctx.expect(events.at(-1)!.type).toBe('run.finished');
    const js = judgementsIn(events);
    ctx.expect(js.length).toBeGreaterThanOrEqual(2);
    ctx.expect(js.map((j) => j.window)).toEqual(js.map((_, i) => [2 * i + 1, 2 * i + 2]));
    for (const j of js) {
      ctx.expect(j).toMatchObject({ judge: { backend: 'openai', model: 'gpt-4o-mini' }, rubric: { name: 'builtin' }, usage: { inputTokens: 800, outputTokens: 60 } });
      ctx.expect(j.costUsd).toBeGreaterThan(0);
      ctx.expect(j.turnsHash).toMatch(/^sha256:/u);
      // Sent once its window's last turn was complete.
      const completed = events.find((e) => e.type === 'turn.completed' && e.turn === j.window[1])!;
      ctx.expect(j.seq).toBeGreaterThan(completed.seq);
    }
    ctx.expect(js[0]!.verdicts!.find((v) => v.attractor === 'spiritual_bliss')!.present).toBe(false);
    ctx.expect(js[1]!.verdicts!.find((v) => v.attractor === 'spiritual_bliss')).toMatchObject({ present: true, onsetTurn: 4 });
    // The perturbation is marked as the judge's, and comes after the judgement that called for it.
    const perturb = events.find((e) => e.type === 'intervention' && e.kind === 'perturb');
    ctx.expect(perturb).toMatchObject({ by: 'judge:spiritual_bliss', text: 'Back to the budget, please.' });
    ctx.expect(perturb!.seq).toBeGreaterThan(js[1]!.seq);
    ctx.expect(events.filter((e) => e.type === 'intervention' && e.kind === 'perturb')).toHaveLength(1);
    // No key in the log.
    ctx.expect(JSON.stringify(events)).not.toContain(KEY);
  });

  it('does not hold the conversation up: turns go on while a judgement is in flight', async (ctx) => {
    const dir = tempDir(ctx);
    const server = await fakeServer();
    let release!: () => void;
    const sixthTurn = new Promise<void>((r) => (release = r));
    server.respond((req) =>
      windowOf(req)[1] === 2
        ? { kind: 'stream', contentType: 'application/json', before: sixthTurn, frames: [JSON.stringify(openAIJudgeCompletion(JSON.stringify({ attractors: namesOf(req).map((name) => ({ name, present: false, onsetTurn: null, confidence: 0.9, evidence: '' })) }), null))] }
        : blissFrom(99)(req),
    );
    const file = writeScenario(dir, { maxTurns: 8, chunkDelayMs: 0, judge: judgeSection() });
    const { result, events } = await runLibrary(file, { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: server.url }, (e) => {
      if (e.type === 'turn.completed' && e.turn === 6) release();
    });
    ctx.expect(result).toMatchObject({ status: 'completed', stopReason: 'max_turns', turns: 8 });
    const first = judgementsIn(events).find((j) => j.window[1] === 2)!;
    const sixth = events.find((e) => e.type === 'turn.completed' && e.turn === 6)!;
    ctx.expect(first.verdicts).toBeDefined();
    ctx.expect(first.seq).toBeGreaterThan(sixth.seq);
    // The windows that fell due while [1, 2] was in flight were sent after it, in order.
    ctx.expect(judgementsIn(events).map((j) => j.window)).toEqual([[1, 2], [3, 4], [5, 6], [7, 8]]);
  });

  it('records refusals, malformed answers and errors as failed judgements and lets the run go on', async (ctx) => {
    const dir = tempDir(ctx);
    const server = await fakeServer();
    server.respond((req) => {
      const last = windowOf(req)[1];
      if (last === 2) return openAIJudgeReply(null, 'I cannot judge this conversation.');
      if (last === 4) return openAIJudgeReply('this is not json at all {');
      if (last === 6) return { kind: 'status', status: 400, json: { error: { message: 'bad request, says the judge', type: 'invalid_request_error' } } };
      return blissFrom(1)(req);
    });
    const file = writeScenario(dir, {
      maxTurns: 8,
      chunkDelayMs: 10,
      judge: judgeSection(),
      stop: '    - {action: stop, attractor: spiritual_bliss, afterTurns: 10}',
    });
    const { result, events } = await runLibrary(file, { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: server.url });
    ctx.expect(result).toMatchObject({ status: 'completed', stopReason: 'max_turns', turns: 8 });
    const js = judgementsIn(events);
    ctx.expect(js.map((j) => j.window)).toEqual([[1, 2], [3, 4], [5, 6], [7, 8]]);
    ctx.expect(js.map((j) => j.failure?.kind ?? 'verdicts')).toEqual(['refusal', 'malformed', 'error', 'verdicts']);
    ctx.expect(js[0]!.failure!.message).toContain('I cannot judge');
    ctx.expect(js[1]!.failure!.message).toMatch(/no valid answer in 3 requests/u);
    ctx.expect(js[2]!.failure!.message).toContain('400');
    // A failure is never verdicts of absence.
    ctx.expect(js.slice(0, 3).every((j) => j.verdicts === undefined)).toBe(true);
    ctx.expect(events.at(-1)!.type).toBe('run.finished');
  });

  it('waits a bounded time at the end for a judgement in flight, then records it as cancelled before run.finished', async (ctx) => {
    const dir = tempDir(ctx);
    const server = await fakeServer();
    server.respond((req) => (windowOf(req)[1] === 4 ? { kind: 'hang' } : blissFrom(99)(req)));
    const file = writeScenario(dir, { maxTurns: 4, chunkDelayMs: 0, judge: judgeSection('  waitAtEndSec: 0.3\n') });
    const t0 = Date.now();
    const { result, events } = await runLibrary(file, { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: server.url });
    ctx.expect(Date.now() - t0).toBeLessThan(10_000);
    ctx.expect(result).toMatchObject({ status: 'completed', turns: 4 });
    const js = judgementsIn(events);
    ctx.expect(js.map((j) => j.window)).toEqual([[1, 2], [3, 4]]);
    ctx.expect(js[1]!.failure).toMatchObject({ kind: 'error' });
    ctx.expect(js[1]!.failure!.message).toMatch(/^cancelled: the run ended/u);
    ctx.expect(js[1]!.seq).toBeLessThan(events.at(-1)!.seq);
    ctx.expect(events.at(-1)!.type).toBe('run.finished');
  });

  it('stops asking once the budget would be passed', async (ctx) => {
    const dir = tempDir(ctx);
    const server = await fakeServer();
    server.respond(blissFrom(99));
    const file = writeScenario(dir, { maxTurns: 10, chunkDelayMs: 5, judge: judgeSection('  budgetUsd: 0.0004\n') });
    const { result, events } = await runLibrary(file, { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: server.url });
    ctx.expect(result).toMatchObject({ status: 'completed', turns: 10 });
    const js = judgementsIn(events);
    // gpt-4o-mini: 800 in + 60 out is $0.000156 a window; a third would pass $0.0004.
    ctx.expect(js).toHaveLength(2);
    ctx.expect(js.reduce((s, j) => s + j.costUsd, 0)).toBeLessThanOrEqual(0.0004);
  });

  it('accepts onAttractor names the judge rubric covers, refuses others naming the rubric too', async (ctx) => {
    const dir = tempDir(ctx);
    writeFileSync(
      join(dir, 'office.yaml'),
      'name: office\nattractors:\n  - name: bureaucracy\n    definition: The talk turns into forms, stamps and procedures.\n    positive: [Please fill in form B-12 in triplicate.]\n    negative: [A short mention of paperwork.]\n',
    );
    const env = { OPENAI_API_KEY: KEY };
    const ok = writeScenario(dir, {
      maxTurns: 2,
      chunkDelayMs: 0,
      judge: '  model: openai:gpt-4o-mini\n  every: 2\n  rubric: office.yaml\n  only: [bureaucracy]\n',
      stop: '    - {action: stop, attractor: bureaucracy}',
    });
    const loaded = await loadScenario(ok);
    const observers = await runObservers(loaded.scenario, { scenarioDir: dir, scenarioFile: ok, logger: silentLogger(), env });
    ctx.expect(observers).toHaveLength(1);

    const bad = writeScenario(dir, {
      maxTurns: 2,
      chunkDelayMs: 0,
      judge: '  model: openai:gpt-4o-mini\n  every: 2\n  rubric: office.yaml\n  only: [bureaucracy]\n',
      stop: '    - {action: stop, attractor: spiritual_bliss}',
    });
    const again = await loadScenario(bad);
    const attempt = runObservers(again.scenario, { scenarioDir: dir, scenarioFile: bad, logger: silentLogger(), env });
    await ctx.expect(attempt).rejects.toBeInstanceOf(InputError);
    await ctx.expect(attempt).rejects.toThrow(/stop\.onAttractor\[0\]\.attractor: no detector named 'spiritual_bliss' runs in this scenario \(detectors: none; the live judge's rubric: bureaucracy\)/u);
  });

  it('refuses a bad judge section before the run starts, at its place in the file', async (ctx) => {
    const dir = tempDir(ctx);
    const cases: { judge: string; env: Record<string, string>; where: RegExp }[] = [
      { judge: '  model: gpt-4o-mini\n  every: 2\n', env: { OPENAI_API_KEY: KEY }, where: /live\.yaml:\d+:\d+: judge\.model: expected BACKEND:MODEL with BACKEND one of anthropic, openai, ollama, got "gpt-4o-mini"/u },
      { judge: '  model: anthropic:claude-haiku-4-5\n  every: 2\n', env: {}, where: /live\.yaml:16:10: judge\.model: judge anthropic:claude-haiku-4-5: no API key: set ANTHROPIC_API_KEY/u },
      { judge: '  model: openai:gpt-4o-mini\n  every: 2\n  rubric: missing.yaml\n', env: { OPENAI_API_KEY: KEY }, where: /live\.yaml:18:11: judge\.rubric: .*missing\.yaml: no such file/u },
      { judge: '  model: openai:gpt-4o-mini\n  every: 2\n  only: [spiritual_blis]\n', env: { OPENAI_API_KEY: KEY }, where: /live\.yaml:18:9: judge\.only: no rubric for 'spiritual_blis'/u },
      { judge: '  model: openai:gpt-4o-mini\n  every: 0\n', env: { OPENAI_API_KEY: KEY }, where: /live\.yaml:17:10: judge\.every: /u },
    ];
    for (const c of cases) {
      const file = writeScenario(dir, { maxTurns: 2, chunkDelayMs: 0, judge: c.judge });
      const res = await runMain(['run', file, '--runs-dir', join(dir, 'runs'), '--quiet', '--json'], dir, c.env);
      ctx.expect(res.code, res.err).toBe(2);
      ctx.expect(res.err.trim().split('\n')).toHaveLength(1);
      ctx.expect(res.err).toMatch(c.where);
    }
    // Nothing ran.
    ctx.expect(() => onlyRunDir(join(dir, 'runs'))).toThrow(/found 0/u);
  });

  it('arena run end to end: judgements in the log, and arena judge of the same windows sends nothing', async (ctx) => {
    const dir = tempDir(ctx);
    const server = await fakeServer();
    server.respond(blissFrom(99));
    const env = { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: server.url };
    const file = writeScenario(dir, { maxTurns: 6, chunkDelayMs: 0, judge: judgeSection() });
    const res = await runMain(['run', file, '--runs-dir', join(dir, 'runs'), '--quiet', '--json'], dir, env);
    ctx.expect(res.code, res.err).toBe(0);
    ctx.expect(lastJsonLine(res.out)).toMatchObject({ status: 'completed', stopReason: 'max_turns', turns: 6 });
    const runDir = onlyRunDir(join(dir, 'runs'));
    const { events } = await readRunLog(join(runDir, 'events.jsonl'));
    ctx.expect(judgementsIn(events).map((j) => j.window)).toEqual([[1, 2], [3, 4], [5, 6]]);
    const sent = server.requests.length;
    ctx.expect(sent).toBe(3);

    const judged = await runMain(['judge', 'runs', '--judge', 'openai:gpt-4o-mini', '--window', '2', '--quiet', '--json'], dir, env);
    ctx.expect(judged.code, judged.err).toBe(0);
    ctx.expect(lastJsonLine(judged.out)).toMatchObject({ judged: 0, cached: 3, costUsd: 0 });
    ctx.expect(server.requests.length).toBe(sent);
    // Other windows are not the live ones: they are sent.
    const whole = await runMain(['judge', 'runs', '--judge', 'openai:gpt-4o-mini', '--quiet', '--json'], dir, env);
    ctx.expect(lastJsonLine(whole.out)).toMatchObject({ judged: 1, cached: 0 });
    ctx.expect(server.requests.length).toBe(sent + 1);
  });

  it('arena resume sends again first a window whose judgement the end of the run cancelled, then goes on', async (ctx) => {
    const dir = tempDir(ctx);
    const server = await fakeServer();
    let hang = true;
    server.respond((req) => (hang && windowOf(req)[1] === 4 ? { kind: 'hang' } : blissFrom(99)(req)));
    const env = { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: server.url };
    const file = writeScenario(dir, { maxTurns: 4, chunkDelayMs: 0, judge: judgeSection('  waitAtEndSec: 0.2\n') });
    const first = await runMain(['run', file, '--runs-dir', join(dir, 'runs'), '--quiet', '--json'], dir, env);
    ctx.expect(first.code, first.err).toBe(0);
    const runDir = onlyRunDir(join(dir, 'runs'));
    hang = false;
    const res = await runMain(['resume', runDir, '--max-turns', '6', '--quiet', '--json'], dir, env);
    ctx.expect(res.code, res.err).toBe(0);
    ctx.expect(lastJsonLine(res.out)).toMatchObject({ status: 'completed', turns: 6 });
    const { events } = await readRunLog(join(runDir, 'events.jsonl'));
    const js = judgementsIn(events);
    ctx.expect(js.map((j) => [j.window, j.failure?.kind ?? 'verdicts'])).toEqual([
      [[1, 2], 'verdicts'],
      [[3, 4], 'error'],
      [[3, 4], 'verdicts'],
      [[5, 6], 'verdicts'],
    ]);
    const resumed = events.find((e) => e.type === 'run.resumed')!;
    ctx.expect(js[2]!.seq).toBeGreaterThan(resumed.seq);
    ctx.expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  });

  it('arena resume after a kill goes on judging where the run was, each window once', async (ctx) => {
    const dir = tempDir(ctx);
    const server = await fakeServer();
    server.respond(blissFrom(99));
    const env = { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: server.url };
    const runsDir = join(dir, 'runs');
    // Six words a turn at 40 ms a word: the kill lands mid-run, after the first judgement.
    const file = writeScenario(dir, { maxTurns: 10, chunkDelayMs: 40, judge: judgeSection() });
    const { child, exited } = spawnCli(['run', file, '--no-view', '--runs-dir', runsDir, '--quiet'], { cwd: dir, env });
    const { runDir } = await waitForLog(runsDir, (events) => countType(events, 'judgement') >= 1 && countType(events, 'turn.completed') >= 5, { exited, timeoutMs: 30_000 });
    child.kill('SIGKILL');
    await exited;
    const before = logLines(join(runDir, 'events.jsonl'));
    ctx.expect(before.some((e) => e.type === 'run.finished')).toBe(false);

    const res = await runMain(['resume', runDir, '--quiet', '--json'], dir, env);
    ctx.expect(res.code, res.err).toBe(0);
    ctx.expect(lastJsonLine(res.out)).toMatchObject({ status: 'completed', turns: 10 });
    const log = await readRunLog(join(runDir, 'events.jsonl'));
    ctx.expect(log.problems).toEqual([]);
    ctx.expect(log.events.map((e) => e.seq)).toEqual(log.events.map((_, i) => i + 1));
    // Every due window judged exactly once, before and after the kill (one the kill left unanswered is sent on resume).
    ctx.expect(judgementsIn(log.events).map((j) => j.window)).toEqual([[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]]);
    ctx.expect(judgementsIn(log.events).every((j) => j.verdicts !== undefined)).toBe(true);
  });
});
