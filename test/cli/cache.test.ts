import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runMain } from '../helpers/main-in-process.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp-dir.js';
import { fakeServer, type FakeServer } from '../agents/_fake-server.js';
import { anthropicReply, ollamaChatReply, openAIChatReply } from '../agents/_wire.js';

const ANTHROPIC_KEY = 'sk-ant-clicache-9f8e7d6c';
const OPENAI_KEY = 'sk-proj-clicache-1a2b3c4d';
const ENV = { ANTHROPIC_API_KEY: ANTHROPIC_KEY, OPENAI_API_KEY: OPENAI_KEY };

/** A provider whose every answer names the request it answers, so a replay cannot pass for a new answer. */
async function countingProvider(): Promise<FakeServer> {
  const server = await fakeServer();
  server.respond((req, i) => {
    const chunks = [`answer ${i + 1} `, 'to a ', 'long question 🌀'];
    if (req.path.endsWith('/messages')) return anthropicReply(chunks, { usage: { input: 500, output: 50 } });
    if (req.path.endsWith('/chat/completions')) return openAIChatReply(chunks, { usage: { prompt: 500, completion: 50 } });
    return ollamaChatReply(chunks);
  });
  return server;
}

function scenarioFile(dir: string, url: string): string {
  const file = join(dir, 'scenario.yaml');
  writeFileSync(
    file,
    `name: cached
seed: 7
turnPolicy: round-robin
limits: { maxTurns: 6 }
agents:
  - { id: claude, backend: anthropic, model: claude-opus-4-5, baseURL: "${url}", persona: "You are Claude." }
  - { id: gpt, backend: openai, model: gpt-4o, baseURL: "${url}/v1", sampling: { seed: 3 } }
  - { id: llama, backend: ollama, model: llama-test, baseURL: "${url}" }
`,
  );
  return file;
}

type Turn = { type: string; turn: number; text: string; costUsd: number; replay?: boolean; usage: { inputTokens: number } };
function turnsOf(eventsFile: string): Turn[] {
  return readFileSync(eventsFile, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Turn)
    .filter((e) => e.type === 'turn.completed');
}

function allFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name));
}

describe('--cache', () => {
  it('arena run twice with --cache: the second run sends no request and replays the same turns at no cost', async () => {
    const server = await countingProvider();
    const dir = tempDir();
    const file = scenarioFile(dir, server.url);
    const args = ['run', file, '--runs-dir', join(dir, 'runs'), '--cache', join(dir, 'cache'), '--json', '--quiet'];
    const first = await runMain(args, dir, ENV);
    expect(first.code).toBe(0);
    expect(server.requests).toHaveLength(6);
    const second = await runMain(args, dir, ENV);
    expect(second.code, second.err).toBe(0);
    expect(server.requests).toHaveLength(6);
    const [a, b] = [first, second].map((r) => turnsOf(join((JSON.parse(r.out.trim().split('\n').at(-1)!) as { runDir: string }).runDir, 'events.jsonl')));
    expect(b!.map((t) => t.text)).toEqual(a!.map((t) => t.text));
    expect(a!.every((t) => t.replay === undefined)).toBe(true);
    expect(b!.every((t) => t.replay === true && t.costUsd === 0)).toBe(true);
    expect(a!.some((t) => t.costUsd > 0)).toBe(true);
    expect(b!.map((t) => t.usage)).toEqual(a!.map((t) => t.usage));
    // The run's seed is not part of any request (only an agent's sampling seed is): another --seed still replays.
    const third = await runMain([...args, '--seed', '8'], dir, ENV);
    expect(third.code).toBe(0);
    expect(server.requests).toHaveLength(6);
    // Another sampling seed for the OpenAI agent is another request from its first turn on.
    writeFileSync(file, readFileSync(file, 'utf8').replace('seed: 3', 'seed: 4'));
    const fourth = await runMain(args, dir, ENV);
    expect(fourth.code).toBe(0);
    expect(server.requests.length).toBeGreaterThan(6);
    for (const f of allFiles(join(dir, 'cache'))) {
      const text = readFileSync(f, 'utf8');
      expect(text).not.toContain(ANTHROPIC_KEY);
      expect(text).not.toContain(OPENAI_KEY);
    }
  });

  it('arena batch --cache: a second batch of the same plan (here over two processes) sends nothing', async () => {
    const server = await countingProvider();
    const dir = tempDir();
    scenarioFile(dir, server.url);
    const plan = join(dir, 'plan.yaml');
    writeFileSync(plan, 'name: cached-batch\nscenarios: [scenario.yaml]\nrepetitions: 2\nmaxTurns: 3\n');
    const first = await runMain(['batch', plan, '--runs-dir', join(dir, 'runs'), '--cache', join(dir, 'cache'), '--quiet', '--json'], dir, ENV);
    expect(first.code, first.err).toBe(0);
    const sent = server.requests.length;
    expect(sent).toBe(6);
    // The built CLI: the process pool's children are dist modules.
    const second = await runCli(['batch', plan, '--runs-dir', join(dir, 'runs2'), '--cache', join(dir, 'cache'), '--quiet', '--json', '--processes', '2'], { cwd: dir, env: ENV });
    expect(second.code, second.stderr).toBe(0);
    expect(server.requests).toHaveLength(sent);
    const logs = allFiles(join(dir, 'runs2')).filter((f) => f.endsWith('events.jsonl'));
    expect(logs).toHaveLength(2);
    for (const log of logs) expect(turnsOf(log).map((t) => t.replay)).toEqual([true, true, true]);
  });

  it('a --cache folder that cannot be written is exit 2 with one line, before anything runs', async () => {
    const dir = tempDir();
    const file = scenarioFile(dir, 'http://127.0.0.1:1');
    const locked = join(dir, 'locked');
    mkdirSync(locked);
    chmodSync(locked, 0o500);
    const target = process.getuid?.() === 0 ? join(dir, 'scenario.yaml', 'cache') : join(locked, 'cache');
    for (const args of [
      ['run', file, '--runs-dir', join(dir, 'runs'), '--cache', target],
      ['batch', file, '--runs-dir', join(dir, 'runs'), '--cache', target],
    ]) {
      const r = await runMain(args, dir, ENV);
      expect(r.code).toBe(2);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).toMatch(/--cache .*cache: cannot write there \((EACCES|ENOTDIR)\)/u);
    }
    const q = await runMain(['batch', file, '--cache', join(dir, 'c'), '--queue', 'redis://127.0.0.1:1'], dir, ENV);
    expect(q.code).toBe(2);
    expect(q.err).toMatch(/ARENA_CACHE_DIR/u);
  });
});
