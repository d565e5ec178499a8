import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { runMain } from '../helpers/main-in-process.js';
import { tempDir } from '../helpers/tmp-dir.js';

/** A chat-completions endpoint that refuses every request with a 400 (not retried). */
async function refusingServer(): Promise<string> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'context_length_exceeded: the prompt is too long', type: 'invalid_request_error' } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onTestFinished(() => new Promise<void>((r) => server.close(() => r())));
  const addr = server.address();
  return `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/v1`;
}

describe('a failed run says why', () => {
  it('with --json --quiet: the JSON line carries the error, stderr names it, exit 1', async () => {
    const dir = tempDir();
    const baseURL = await refusingServer();
    const scenario = join(dir, 'chat.yaml');
    writeFileSync(
      scenario,
      `name: refused\nagents:\n  - {id: a, backend: openai, model: m, baseURL: "${baseURL}"}\n  - {id: b, backend: openai, model: m, baseURL: "${baseURL}"}\nlimits: {maxTurns: 2}\n`,
    );
    const json = await runMain(['run', scenario, '--no-view', '--json', '--quiet', '--runs-dir', join(dir, 'runs')], dir);
    expect(json.code).toBe(1);
    const result = JSON.parse(json.out.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(result).toMatchObject({ status: 'failed', stopReason: 'error', turns: 0 });
    expect(result.error).toMatch(/context_length_exceeded: the prompt is too long/);
    expect(json.err).toMatch(/failed \(error\): .*context_length_exceeded/);

    const quiet = await runMain(['run', scenario, '--no-view', '--quiet', '--runs-dir', join(dir, 'runs')], dir);
    expect(quiet.code).toBe(1);
    expect(quiet.err).toMatch(/failed \(error\): .*context_length_exceeded/);
  });
});
