import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBatchLog } from '../../src/batch/_batch-log.js';
import { batchRedactor } from '../../src/batch/_credentials.js';

describe('batch.log', () => {
  it('holds no endpoint password, query key or key from the environment, wherever a line carries one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'arena-batch-log-'));
    const scenario = { agents: [{ id: 'a', backend: 'openai', baseURL: 'https://carol:s3cret-pass-99@gw.example/v1?key=q-key-4455', apiKeyEnv: 'GW_KEY' }] };
    const redact = batchRedactor([scenario], { GW_KEY: 'gw-env-key-0011', OPENAI_API_KEY: 'sk-openai-7788', OPENAI_BASE_URL: 'https://dave:env-url-pass-66@proxy.example/v1' });
    const log = openBatchLog(dir, 'info', redact);
    log.logger.error({ err: 'request to https://carol:s3cret-pass-99@gw.example/v1?key=q-key-4455 failed' }, 'run failed');
    log.logger.warn({ headers: { 'x-trace': 'gw-env-key-0011' } }, 'sdk said sk-openai-7788 and env-url-pass-66');
    log.logger.info('a line without secrets');
    await log.close();
    const text = readFileSync(join(dir, 'batch.log'), 'utf8');
    expect(text.trim().split('\n')).toHaveLength(3);
    for (const secret of ['s3cret-pass-99', 'q-key-4455', 'gw-env-key-0011', 'sk-openai-7788', 'env-url-pass-66']) expect(text).not.toContain(secret);
    expect(text).toContain('[redacted]@gw.example/v1?key=[redacted]');
    expect(text).toContain('a line without secrets');
  });
});
