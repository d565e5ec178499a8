import type { RunExtras } from './_execute.js';
import { intFlag } from './_args.js';
import { InputError } from '../errors.js';
import type { EmbedderKind } from '../analysis/embedder.js';

const EMBEDDERS: readonly EmbedderKind[] = ['offline', 'openai', 'ollama', 'none'];

function embedderKind(value: string | undefined): EmbedderKind {
  if (value === undefined) return 'none';
  const kind = EMBEDDERS.find((k) => k === value);
  if (!kind) throw new InputError(`--embeddings must be one of ${EMBEDDERS.join(', ')}, got '${value}'`);
  return kind;
}

/**
 * The live features a CLI run gets: analysis observers and the viewer. Kept in one place so demo, run,
 * resume and batch behave the same.
 */
export function defaultExtras(): RunExtras {
  return {
    async observers(scenario, logger, context) {
      const embeddings = embedderKind(context?.values.embeddings);
      const { analysisObserverForScenario } = await import('../analysis/scenario-observer.js');
      const { resolveDetectors } = await import('../analysis/load-attractors.js');
      const scenarioDir = context?.scenarioDir ?? process.cwd();
      // A misspelt attractor in onAttractor would silently never fire.
      const named = scenario.stop.onAttractor.filter((a) => a.attractor !== '*');
      if (named.length > 0) {
        const known = new Set((await resolveDetectors(scenario.detectors, scenarioDir)).map((d) => d.name));
        scenario.stop.onAttractor.forEach((a, i) => {
          if (a.attractor !== '*' && !known.has(a.attractor)) {
            throw new InputError(
              `${context?.scenarioFile ?? 'scenario'}: stop.onAttractor[${i}].attractor: no detector named '${a.attractor}' runs in this scenario (detectors: ${[...known].join(', ') || 'none'})`,
            );
          }
        });
      }
      const observer = await analysisObserverForScenario(scenario, {
        scenarioDir,
        embeddings,
        env: context?.env ?? process.env,
        onError: (err) => logger.warn({ err }, 'embedding failed; the turn is analysed from its text alone'),
      });
      return observer ? [observer] : [];
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
