import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EndpointUrls, JUDGE_SEAT, batchRedactor, publicScenarioRecord, restoreUrls, unrestorable } from '../../src/batch/_credentials.js';
import { fakeServer, type ReceivedRequest, type Reply } from '../agents/_fake-server.js';
import { lastJsonLine, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp-dir.js';
import { openAIJudgeReply } from '../judge/_openai-completion.js';

const PASSWORD = 'judge-pass-6e21b9';
const KEY = 'sk-dotenv-only-3c9a51';

/** Every attractor of the request's schema absent. */
function absent(req: ReceivedRequest): Reply {
  const body = req.body as { response_format: { json_schema: { schema: { properties: { attractors: { items: { properties: { name: { enum: string[] } } } } } } } } };
  const names = body.response_format.json_schema.schema.properties.attractors.items.properties.name.enum;
  return openAIJudgeReply(JSON.stringify({ attractors: names.map((name) => ({ name, present: false, onsetTurn: null, confidence: 0.7, evidence: '' })) }));
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true })
    .map((f) => join(dir, String(f)))
    .filter((f) => statSync(f).isFile());
}

describe('batch runs with a live judge', () => {
  it("judge with the key from .env, and no file of the batch keeps the password in the judge's baseURL", async () => {
    const dir = tempDir();
    const server = await fakeServer();
    server.respond(absent);
    const judgeUrl = server.url.replace('http://', `http://judge:${PASSWORD}@`);
    writeFileSync(
      join(dir, 'judged.yaml'),
      `name: judged
detectors: []
agents:
  - { id: a, name: Ada, backend: scripted, generator: { kind: script, loop: true, lines: ["alpha one two"] } }
  - { id: b, name: Bea, backend: scripted, generator: { kind: script, loop: true, lines: ["beta three four"] } }
limits: { maxTurns: 4 }
judge:
  model: openai:gpt-4o-mini
  baseURL: ${judgeUrl}
  every: 2
  window: 2
`,
    );
    writeFileSync(join(dir, 'plan.yaml'), 'name: judged-batch\nscenarios: [judged.yaml]\nrepetitions: 2\n');
    // The key is only in .env: the CLI reads it there, and the batch's live judges must get it from the CLI.
    writeFileSync(join(dir, '.env'), `OPENAI_API_KEY=${KEY}\n`);
    const r = await runCli(['batch', 'plan.yaml', '--runs-dir', 'runs', '--json', '--quiet'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const { batchDir } = lastJsonLine(r.stdout) as { batchDir: string };

    // Two runs × turns 2 and 4.
    expect(server.requests).toHaveLength(4);
    for (const req of server.requests) expect(req.headers.authorization).toBe(`Bearer ${KEY}`);
    const logs = filesUnder(batchDir).filter((f) => f.endsWith('events.jsonl'));
    expect(logs).toHaveLength(2);
    for (const log of logs) {
      const judgements = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; verdicts?: unknown[] }).filter((e) => e.type === 'judgement');
      expect(judgements).toHaveLength(2);
      for (const j of judgements) expect(j.verdicts).toBeDefined();
    }
    const manifest = readFileSync(join(batchDir, 'batch.json'), 'utf8');
    expect(manifest).toContain('redacted%5D@127.0.0.1');
    for (const file of filesUnder(batchDir)) {
      const text = readFileSync(file, 'utf8');
      expect(text, file).not.toContain(PASSWORD);
      expect(text, file).not.toContain(KEY);
    }
  });

  it("keeps a judge's baseURL without its credentials, restores it from the plan's scenarios, and redacts it from batch logs", () => {
    const real = `http://judge:${PASSWORD}@127.0.0.1:9/v1`;
    const scenario = { name: 's', agents: [{ id: 'a', baseURL: 'http://127.0.0.1:8/v1' }], judge: { model: 'openai:m', baseURL: real, every: 2 } };
    const stored = publicScenarioRecord(scenario);
    expect(JSON.stringify(stored)).not.toContain(PASSWORD);
    expect(stored).toMatchObject({ agents: [{ baseURL: 'http://127.0.0.1:8/v1' }], judge: { model: 'openai:m', every: 2 } });
    const urls = EndpointUrls.of([scenario]);
    expect(urls.entries).toEqual([[0, JUDGE_SEAT, real]]);
    expect(restoreUrls(stored, 0, urls)).toEqual(scenario);
    // Without the plan, resume says which endpoint it cannot restore.
    expect(unrestorable([stored], new EndpointUrls([]))).toEqual([(stored['judge'] as { baseURL: string }).baseURL]);
    expect(batchRedactor([scenario], {})(`failed: ${real}`)).not.toContain(PASSWORD);
  });
});
