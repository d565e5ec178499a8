import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { createLogger } from '../logger.js';

/**
 * The operational log of a batch (`<batchDir>/batch.log`); runs log through children of it. `redact`
 * removes credentials from every line before it reaches the file (pino's own redaction knows field names,
 * not values such as a password in an error message).
 */
export function openBatchLog(batchDir: string, level = 'info', redact?: (text: string) => string): { logger: Logger; close(): Promise<void> } {
  mkdirSync(batchDir, { recursive: true });
  const file = createWriteStream(join(batchDir, 'batch.log'), { flags: 'a' });
  // A full disk must not crash the batch through an unhandled 'error' event: the operational log is lost, the runs go on.
  file.on('error', () => {});
  const stream = redact
    ? new Writable({
        write(chunk: Buffer | string, _encoding, done) {
          file.write(redact(chunk.toString()), () => done());
        },
        final(done) {
          file.end(() => done());
        },
      })
    : file;
  const logger = createLogger({ level, destination: stream });
  return { logger, close: () => new Promise<void>((r) => stream.end(r)) };
}
