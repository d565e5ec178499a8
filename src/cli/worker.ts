import { resolve } from 'node:path';
import { InputError } from '../errors.js';
import { createLogger } from '../logger.js';
import { defineCommand, EXIT } from './command.js';
import { intFlag, logLevel, parse } from './_args.js';
import { observersFor } from '../app/run-observers.js';

const usage = `usage: arena worker --queue redis://host:port [options]

Take runs of \`arena batch --queue\` batches from the queue and run them here. Run logs go to
<runs-dir>/<batchId>/<runId>/events.jsonl; every event is also published on the Redis channel
arena:batch:<batchId>:events. Workers that share a runs dir take over the runs of a worker that
died, from its last completed turn. Ctrl-C interrupts running runs and hands them back to the queue.

  --queue URL        the Redis server of the queue (required)
  --runs-dir DIR     where run logs go (default: runs)
  --concurrency N    runs at once on this worker (default 4)
  --lock-ms MS       a dead worker's runs and rate-limit slots are taken over after about
                     this long (default 30000)
  --log-level L      operational log level on stderr (default warn)`;

const FLAGS = {
  queue: { type: 'string' },
  'runs-dir': { type: 'string' },
  concurrency: { type: 'string' },
  'lock-ms': { type: 'string' },
  'log-level': { type: 'string' },
} as const;

export default defineCommand({
  name: 'worker',
  summary: 'take runs of distributed batches from a Redis queue',
  usage,
  async run(args, io) {
    const { values, positionals } = parse(args, FLAGS, usage);
    if (positionals.length > 0) throw new InputError(`unexpected argument '${positionals[0]}'\n${usage}`);
    if (!values.queue) throw new InputError(`--queue redis://host:port is required\n${usage}`);
    const { probeRedis } = await import('../batch/queue/connection.js');
    await probeRedis(values.queue);
    const concurrency = intFlag(values.concurrency, '--concurrency', 1) ?? 4;
    const lockMs = intFlag(values['lock-ms'], '--lock-ms', 100);
    const runsDir = resolve(io.cwd, values['runs-dir'] ?? io.env.ARENA_RUNS_DIR ?? 'runs');
    const logger = createLogger({ level: logLevel(values['log-level'], '--log-level') ?? logLevel(io.env.ARENA_LOG_LEVEL, 'ARENA_LOG_LEVEL') ?? 'warn', destination: io.stderr });
    const { startQueueWorker } = await import('../batch/queue/worker.js');
    const worker = startQueueWorker({
      url: values.queue,
      runsDir,
      concurrency,
      env: io.env,
      logger,
      ...(lockMs !== undefined ? { lockMs } : {}),
      observersFor,
      onRun: (what, runId, outcome) =>
        io.stderr.write(what === 'start' ? `start ${runId}\n` : `end ${runId} ${outcome?.status} (${outcome?.stopReason}) ${outcome?.turns} turns\n`),
    });
    await worker.ready;
    io.stderr.write(`worker ready: ${concurrency} at once, logs → ${runsDir}\n`);
    await new Promise<void>((done) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        done();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    io.stderr.write('worker stopping: running runs go back to the queue\n');
    await worker.close();
    return EXIT.ok;
  },
});
