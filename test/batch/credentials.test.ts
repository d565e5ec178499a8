import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runMain } from '../helpers/main-in-process.js';
import { startOpenAIServer } from './_openai-server.js';
import { writeBatchFixture } from './_fixtures.js';
import { haveRedisServer, startRedis } from './_redis.js';

const MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/** Credentials a plan and its environment hold; none may reach a file under the runs folder. */
const PASSWORD = 'hunter2-pass-7f3a';
const QUERY_KEY = 'qk-91c2e5d0';
const GATEWAY_KEY = 'gw-key-3b9d77e1';
const OPENAI_KEY = 'sk-envkey-55aa21c4';
const DEAD_PASSWORD = 'pw-closed-port-8842';
const SECRETS = [PASSWORD, QUERY_KEY, GATEWAY_KEY, OPENAI_KEY, DEAD_PASSWORD];
const ENV = { GATEWAY_KEY, OPENAI_API_KEY: OPENAI_KEY };

/** Every file under `dir` that holds one of the secrets, with the secret. */
function leaks(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else {
        const text = readFileSync(p, 'latin1');
        for (const s of SECRETS) if (text.includes(s) || text.includes(encodeURIComponent(s))) found.push(`${p}: ${s}`);
      }
    }
  };
  walk(dir);
  return found;
}

function runFolders(batchDir: string): string[] {
  return readdirSync(batchDir).filter((n) => statSync(join(batchDir, n)).isDirectory());
}

describe('credentials in a batch plan', () => {
  let server: Awaited<ReturnType<typeof startOpenAIServer>>;
  beforeAll(async () => {
    server = await startOpenAIServer();
  });
  afterAll(() => server.close());

  function fixture() {
    const url = new URL(server.baseURL);
    const gateway = `http://alice:${PASSWORD}@${url.host}/v1?api-key=${QUERY_KEY}`;
    return writeBatchFixture(`scenarios: [chat.yaml]
models:
  - { id: gw, backend: openai, model: fake-model, baseURL: "${gateway}", apiKeyEnv: GATEWAY_KEY }
  - { id: plain, backend: openai, model: fake-model, baseURL: "${server.baseURL}" }
  - { id: dead, backend: openai, model: fake-model, baseURL: "http://bob:${DEAD_PASSWORD}@127.0.0.1:1/v1", maxRetries: 0 }
pairings: { selfPlay: true, pairs: [[gw, plain]] }
repetitions: 2
`);
  }

  it('keeps them out of every file under the runs folder, and resume reads them from the plan again', async () => {
    const { dir } = fixture();
    const first = await runMain(['batch', 'plan.yaml', '--runs-dir', 'runs', '--json', '--quiet'], dir, ENV);
    // The runs against the closed port fail (their error is written to the summary and the batch log).
    expect(first.code, first.err).toBe(1);
    const { batchDir, runs } = JSON.parse(first.out.trim()) as { batchDir: string; runs: Record<string, number> };
    expect(runs).toMatchObject({ planned: 8, completed: 6, failed: 2 });
    // The gateway got its credentials: the query key and the key from the variable apiKeyEnv names.
    expect(server.seen().some((s) => s.includes(`api-key=${QUERY_KEY}`) && s.endsWith(`Bearer ${GATEWAY_KEY}`))).toBe(true);
    expect(server.seen().some((s) => s.endsWith(`Bearer ${OPENAI_KEY}`))).toBe(true);
    const deadLog = readFileSync(join(batchDir, runFolders(batchDir).find((n) => n.includes('-dead-'))!, 'events.jsonl'), 'utf8');
    expect(deadLog).toContain('"type":"turn.failed"');
    expect(readFileSync(join(batchDir, 'batch.json'), 'utf8')).toContain('%5Bredacted%5D@127.0.0.1');
    expect(leaks(join(dir, 'runs'))).toEqual([]);

    // Resume in this process: the runs of the gateway pairing start again with the real URL.
    const gwRuns = runFolders(batchDir).filter((n) => n.includes('-gw-'));
    expect(gwRuns.length).toBeGreaterThan(0);
    for (const n of gwRuns) rmSync(join(batchDir, n), { recursive: true });
    const before = server.seen().length;
    const again = await runMain(['batch', 'resume', batchDir, '--json', '--quiet'], dir, ENV);
    expect(JSON.parse(again.out.trim()).runs).toMatchObject({ planned: 8, completed: 6, failed: 2 });
    expect(server.seen().slice(before).filter((s) => s.includes(`api-key=${QUERY_KEY}`)).length).toBeGreaterThan(0);
    expect(leaks(join(dir, 'runs'))).toEqual([]);

    // Resume in child processes: they read batch.json, and get the credentials from their parent.
    expect(existsSync(MAIN), `${MAIN} is missing: run \`npm run build\` first`).toBe(true);
    for (const n of gwRuns) rmSync(join(batchDir, n), { recursive: true });
    const pooled = spawn(process.execPath, [MAIN, 'batch', 'resume', batchDir, '--json', '--quiet', '--processes', '2'], { cwd: dir, env: { ...process.env, ...ENV }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    pooled.stdout.on('data', (d: Buffer) => (out += d.toString()));
    pooled.stderr.on('data', (d: Buffer) => (err += d.toString()));
    expect(await new Promise((r) => pooled.on('exit', r)), err).toBe(1);
    expect(JSON.parse(out.trim().split('\n').pop()!).runs).toMatchObject({ planned: 8, completed: 6, failed: 2 });
    expect(leaks(join(dir, 'runs'))).toEqual([]);

    // Without the plan the credentials cannot be had. A batch whose runs that need them are all done
    // resumes without them; once one of those runs must run again, resume says so, and where to point it.
    renameSync(join(dir, 'plan.yaml'), join(dir, 'moved.yaml'));
    const done = await runMain(['batch', 'resume', batchDir, '--quiet', '--json'], dir, ENV);
    expect(done.err).not.toContain('credentials');
    expect(JSON.parse(done.out.trim()).runs).toMatchObject({ completed: 6, failed: 2 });
    for (const n of gwRuns) rmSync(join(batchDir, n), { recursive: true });
    const lost = await runMain(['batch', 'resume', batchDir, '--quiet'], dir, ENV);
    expect(lost.code).toBe(2);
    expect(lost.err).toMatch(/^arena batch: .*batch\.json keeps no credentials, and the endpoint http:\/\/%5Bredacted%5D@127\.0\.0\.1:\d+\/v1\?api-key=%5Bredacted%5D needs them; .*plan\.yaml: no such file \(pass --plan FILE with the plan the batch was started with\)\n$/);
    const moved = await runMain(['batch', 'resume', batchDir, '--quiet', '--plan', 'moved.yaml', '--json'], dir, ENV);
    expect(JSON.parse(moved.out.trim()).runs).toMatchObject({ completed: 6, failed: 2 });
    // A plan that points the model elsewhere cannot supply them: resume names the endpoint it lacks.
    writeFileSync(join(dir, 'other.yaml'), readFileSync(join(dir, 'moved.yaml'), 'utf8').replace('/v1?api-key', '/v2?api-key'));
    for (const n of gwRuns) rmSync(join(batchDir, n), { recursive: true });
    const other = await runMain(['batch', 'resume', batchDir, '--quiet', '--plan', 'other.yaml'], dir, ENV);
    expect(other.code).toBe(2);
    expect(other.err).toMatch(/other\.yaml no longer gives the endpoint http:\/\/%5Bredacted%5D@127\.0\.0\.1:\d+\/v1\?api-key=%5Bredacted%5D; pass --plan FILE/);
    expect(leaks(join(dir, 'runs'))).toEqual([]);
  });

  it('puts back two accounts of one gateway, which look alike once stored, each in its own seat', async () => {
    const { dir } = writeBatchFixture(`scenarios: [chat.yaml]
models:
  - { id: a, backend: openai, model: model-a, baseURL: "${server.baseURL}?api-key=${QUERY_KEY}-a" }
  - { id: b, backend: openai, model: model-b, baseURL: "${server.baseURL}?api-key=${QUERY_KEY}-b" }
`);
    const first = await runMain(['batch', 'plan.yaml', '--runs-dir', 'runs', '--json', '--quiet'], dir, ENV);
    const { batchDir } = JSON.parse(first.out.trim()) as { batchDir: string };
    for (const n of runFolders(batchDir)) rmSync(join(batchDir, n), { recursive: true });
    const before = server.seen().length;
    const again = await runMain(['batch', 'resume', batchDir, '--json', '--quiet'], dir, ENV);
    expect(JSON.parse(again.out.trim()).runs).toMatchObject({ planned: 2, completed: 2 });
    const seen = server.seen().slice(before);
    expect(seen.filter((s) => s.includes(' model-a ')).every((s) => s.includes(`api-key=${QUERY_KEY}-a`))).toBe(true);
    expect(seen.filter((s) => s.includes(' model-b ')).every((s) => s.includes(`api-key=${QUERY_KEY}-b`))).toBe(true);
    expect(seen.filter((s) => s.includes(' model-b ')).length).toBeGreaterThan(0);
    expect(leaks(join(dir, 'runs'))).toEqual([]);
  });

  it.skipIf(!haveRedisServer)('refuses to put them on a queue (Redis would store them with every job)', async () => {
    const redis = await startRedis();
    try {
      const { dir } = fixture();
      const r = await runMain(['batch', 'plan.yaml', '--runs-dir', 'runs', '--queue', redis.url, '--quiet'], dir, ENV);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/^arena batch: --queue: the endpoint http:\/\/%5Bredacted%5D@127\.0\.0\.1:\d+\/v1\?api-key=%5Bredacted%5D has credentials in its URL, which would be stored in Redis with every job; .*OPENAI_BASE_URL/);
      expect(existsSync(join(dir, 'runs'))).toBe(false);
    } finally {
      await redis.stop();
    }
  });
});
