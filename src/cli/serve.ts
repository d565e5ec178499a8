import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pino, type DestinationStream } from 'pino';
import { InputError } from '../errors.js';
import { startViewer } from '../viewer/server.js';
import { defineCommand, EXIT, printJson, type CliIO } from './command.js';

const USAGE = `usage: arena serve [--runs-dir DIR] [--queue URL] [--port P] [--host H] [--allow-host NAME] [--token T] [--json] [--verbose]

Serve the live viewer: every run under DIR (at any depth), runs being written by other
\`arena\` processes followed as they grow. Prints the address to open; its ?token= lets the
page pause, resume, stop and inject into runs of this process. Runs until Ctrl-C.

  --runs-dir DIR  folder of runs (default: runs)
  --queue URL     redis://host:port of a batch queue: also show its workers' runs live
  --port P        port (default: 7357; 0 picks a free one)
  --host H        interface to bind (default: 127.0.0.1). Beyond localhost, reading needs the token too
  --allow-host N  beyond localhost: another name the viewer answers to (a DNS name, a proxy); repeatable.
                  This machine's host name and addresses are always accepted
  --token T       control token (default: a random one)
  --json          print {url, baseUrl, token, port, runsDir} (and queue) as the last line once listening
  --verbose       log requests and warnings to stderr`;

const DEFAULT_PORT = 7357;

/** Parse flags, start the viewer, print its address, and keep serving until `stop` settles. */
export async function serveUntil(args: string[], io: CliIO, stop: Promise<unknown>): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        'runs-dir': { type: 'string' },
        queue: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        'allow-host': { type: 'string', multiple: true },
        token: { type: 'string' },
        json: { type: 'boolean' },
        verbose: { type: 'boolean' },
      },
      allowPositionals: false,
    }));
  } catch (err) {
    throw new InputError(`${(err as Error).message}\n${USAGE}`);
  }
  const port = values.port === undefined ? DEFAULT_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new InputError(`--port: expected 0-65535, got '${values.port}'`);
  if (values.token !== undefined && values.token.length < 8) throw new InputError('--token: use at least 8 characters');
  const runsDir = resolve(io.cwd, values['runs-dir'] ?? 'runs');
  const logger = pino({ level: values.verbose ? 'info' : 'warn' }, io.stderr as unknown as DestinationStream);
  const host = values.host ?? '127.0.0.1';
  let queue: string | null = null;
  if (values.queue !== undefined) {
    // Checked before listening, so a typo is a one-line usage error; Redis is loaded only when asked for.
    const { parseRedisUrl } = await import('../batch/queue/connection.js');
    const target = parseRedisUrl(values.queue);
    queue = `redis://${target.host}:${target.port}${target.db !== undefined ? `/${target.db}` : ''}`;
  }

  const viewer = await startViewer({
    runsDir,
    host,
    port,
    logger,
    ...(values.token ? { token: values.token } : {}),
    ...(values.queue !== undefined ? { queue: values.queue } : {}),
    ...(values['allow-host'] ? { allowedHosts: values['allow-host'] } : {}),
  });
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '::1') {
    io.stderr.write(`arena serve: listening on ${host}: only pages opened with the ?token= address can read or steer runs; share it with care\n`);
  }
  if (values.json) {
    printJson(io, { url: viewer.url, baseUrl: viewer.baseUrl, token: viewer.token, port: viewer.port, runsDir, ...(queue ? { queue } : {}) });
  } else {
    // The queue is shown without credentials: the terminal may be shared or recorded.
    io.stdout.write(`viewer: ${viewer.url}\nruns:   ${runsDir}\n${queue ? `queue:  ${queue} (runs of its workers shown live)\n` : ''}(Ctrl-C to stop)\n`);
  }
  await stop;
  await viewer.close();
  return EXIT.ok;
}

export default defineCommand({
  name: 'serve',
  summary: 'serve the live viewer for runs in a folder',
  usage: USAGE,
  run(args: string[], io: CliIO): Promise<number> {
    let onSignal: () => void = () => undefined;
    const stop = new Promise<void>((done) => {
      onSignal = () => done();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
    });
    return serveUntil(args, io, stop).finally(() => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    });
  },
});
