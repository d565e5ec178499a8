import type { RunExtras } from './_run-command.js';
import { intFlag } from './_args.js';
import { InputError } from '../errors.js';
import { runObservers } from '../app/run-observers.js';
import { EMBEDDER_KINDS, type EmbedderKind } from '../analysis/embedder.js';

function embedderKind(value: string | undefined): EmbedderKind {
  if (value === undefined) return 'none';
  const kind = EMBEDDER_KINDS.find((k) => k === value);
  if (!kind) throw new InputError(`--embeddings must be one of ${EMBEDDER_KINDS.join(', ')}, got '${value}'`);
  return kind;
}

/**
 * What demo, run and resume add to a run: the live analysis (src/app/run-observers.ts, with the embedder
 * --embeddings names) and the viewer (--view, --port, --host).
 */
export function analysisAndViewer(): RunExtras {
  return {
    async observers(scenario, logger, context) {
      return runObservers(scenario, {
        logger,
        embeddings: embedderKind(context.values.embeddings),
        scenarioDir: context.scenarioDir,
        ...(context.scenarioFile !== undefined ? { scenarioFile: context.scenarioFile } : {}),
        env: context.env,
      });
    },
    async openViewer(runsDir, values, io, logger) {
      const { startViewer } = await import('../viewer/index.js');
      const port = intFlag(values.port, '--port') ?? 0;
      const host = values.host ?? '127.0.0.1';
      const viewer = await startViewer({ runsDir, port, host, logger: logger.child({ component: 'viewer' }) });
      if (!['127.0.0.1', 'localhost', '::1'].includes(host)) {
        io.stderr.write(`viewer: listening on ${host}: only pages opened with the ?token= address can read or steer the run\n`);
      }
      return viewer;
    },
  };
}
