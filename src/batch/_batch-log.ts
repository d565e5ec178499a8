import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { createLogger } from '../logger.js';

/** The operational log of a batch (`<batchDir>/batch.log`); runs log through children of it. */
export function openBatchLog(batchDir: string, level = 'info'): { logger: Logger; close(): Promise<void> } {
  mkdirSync(batchDir, { recursive: true });
  const stream = createWriteStream(join(batchDir, 'batch.log'), { flags: 'a' });
  // A full disk must not crash the batch through an unhandled 'error' event: the operational log is lost, the runs go on.
  stream.on('error', () => {});
  const logger = createLogger({ level, destination: stream });
  return { logger, close: () => new Promise<void>((r) => stream.end(r)) };
}
