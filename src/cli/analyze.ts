import { dirname, resolve } from 'node:path';
import { analyzeRunEvents, type AttractorEpisode } from '../analysis/analyze-run.js';
import { canonicalJson, eventBodyJson } from '../analysis/canonical.js';
import { computeCentroids } from '../analysis/centroids.js';
import { configFromId, createEmbedder } from '../analysis/create-embedder.js';
import { EMBEDDER_KINDS, type Embedder, type EmbedderKind } from '../analysis/embedder.js';
import { detectorChooser } from '../analysis/run-detectors.js';
import { InputError } from '../errors.js';
import { padEndTo } from '../text-width.js';
import type { ArenaEvent, EventBody } from '../runlog/events.js';
import { findRunLogs } from '../runlog/layout.js';
import { describeProblems, readRunLog } from '../runlog/reader.js';
import { noStartProblem } from '../runlog/log-check.js';
import { EventStamper } from '../runlog/stamp.js';
import { RunLogWriter } from '../runlog/writer.js';
import { lockBatchOfRun } from '../runlog/writer-lock.js';
import { EXIT, defineCommand, printJson, type CliIO } from './command.js';
import { parse } from './_args.js';

const usage = `usage: arena analyze [<run folder | folder | events.jsonl>...] [--json] [--embeddings KIND] [--write]

Recompute attractor detection for finished runs, with the same code as live analysis.
Finds events.jsonl at any depth under the folders given (default: the runs dir).
  --runs-dir DIR         the folder to analyse when none is given (default: runs)
  --embeddings auto|offline|openai|ollama|none
                         auto (default): the embedder the run used live, else none
  --embedding-model NAME model for openai / ollama embeddings
  --embedding-url URL    endpoint for openai / ollama (default OPENAI_BASE_URL / OLLAMA_HOST)
  --detectors LIST       attractor names, 'all', or attractor .yaml files, comma-separated
                         (default: the run's scenario detectors, else all built-in attractors)
  --write                append the analysis to runs whose log has none yet (embeddings cached too)
  --json                 print {runs: [{runId, runDir, attractors: [{attractor, enteredTurn, exitedTurn, score}]}]}`;

const ANALYSIS_TYPES = new Set<ArenaEvent['type']>(['embedding', 'analysis.turn', 'attractor.entered', 'attractor.exited']);

interface RunReport {
  runId: string;
  runDir: string;
  attractors: AttractorEpisode[];
}

export default defineCommand({
  name: 'analyze',
  summary: 'recompute attractor detection for finished runs',
  usage,
  async run(args, io) {
    const { values, positionals } = parse(
      args,
      {
        json: { type: 'boolean' },
        write: { type: 'boolean' },
        embeddings: { type: 'string', default: 'auto' },
        'embedding-model': { type: 'string' },
        'embedding-url': { type: 'string' },
        detectors: { type: 'string' },
        'runs-dir': { type: 'string' },
      },
      usage,
    );
    // With no folder given, the runs dir is analysed (like every command, --runs-dir or ARENA_RUNS_DIR).
    if (positionals.length === 0) positionals.push(values['runs-dir'] ?? io.env.ARENA_RUNS_DIR ?? 'runs');
    const requested = values.embeddings;
    if (requested !== 'auto' && !EMBEDDER_KINDS.some((k) => k === requested)) {
      throw new InputError(`--embeddings must be auto, ${EMBEDDER_KINDS.join(', ')}; got '${requested}'`);
    }
    const files = await findRunLogs(positionals.map((p) => resolve(io.cwd, p)));
    if (files.length === 0) throw new InputError(`no events.jsonl found under ${positionals.join(', ')}`);

    const chooseDetectors = detectorChooser(values.detectors, io.cwd);
    const embedders = new Map<string, Embedder | undefined>();
    const centroids = new Map<string, Map<string, Float32Array>>();
    const reports: RunReport[] = [];
    let refused = 0;
    try {
      for (const file of files) {
        const log = await readRunLog(file);
        for (const line of describeProblems(log)) io.stderr.write(`warning: ${line}\n`);
        const runDir = dirname(file);
        const started = log.events.find((e) => e.type === 'run.started');
        // An empty or garbage file is no run: saying "no attractor" about it would be a finding it does not support.
        if (!started) {
          io.stderr.write(`warning: ${noStartProblem(file)}\n`);
          continue;
        }
        const runId = started.runId;
        const detectors = await chooseDetectors(log.events);
        const kind = requested === 'auto' ? autoKind(log.events) : { kind: EMBEDDER_KINDS.find((k) => k === requested) ?? 'none' };
        const key = `${kind.kind}:${kind.model ?? values['embedding-model'] ?? ''}`;
        if (!embedders.has(key)) {
          const model = kind.model ?? values['embedding-model'];
          embedders.set(key, createEmbedder({ kind: kind.kind, env: io.env, ...(model ? { model } : {}), ...(values['embedding-url'] ? { baseURL: values['embedding-url'] } : {}) }));
        }
        const embedder = embedders.get(key);
        let shared: Map<string, Float32Array> | undefined;
        if (embedder) {
          const ckey = `${embedder.id}|${detectors.map((d) => d.name).join(',')}`;
          shared = centroids.get(ckey) ?? (await computeCentroids(detectors, embedder));
          centroids.set(ckey, shared);
        }
        const result = await analyzeRunEvents(log.events, {
          detectors,
          ...(embedder ? { embedder, centroids: shared } : {}),
          onError: (err) => io.stderr.write(`warning: ${runId}: embedding failed: ${err instanceof Error ? err.message : String(err)}\n`),
        });
        reports.push({ runId, runDir, attractors: result.attractors });
        if (values.write && !write(log.events, result.events, runDir, log.validBytes, runId, io)) refused++;
      }
    } finally {
      await Promise.all([...embedders.values()].map((e) => e?.close()));
    }

    if (reports.length === 0) {
      throw new InputError(files.length === 1 ? `${files[0]}: not a run log (no run.started event): nothing to analyse` : `none of the ${files.length} events.jsonl files is a run log (no run.started event): nothing to analyse`);
    }
    if (values.json) printJson(io, { runs: reports });
    else io.stdout.write(render(reports));
    return refused > 0 ? EXIT.usage : EXIT.ok;
  },
});

function autoKind(events: readonly ArenaEvent[]): { kind: EmbedderKind; model?: string } {
  const first = events.find((e) => e.type === 'embedding');
  if (!first || first.type !== 'embedding') return { kind: 'none' };
  return configFromId(first.model) ?? { kind: 'none' };
}


/**
 * Append the recomputed analysis to a finished run's log when the log holds none of it, or only its
 * beginning. A log whose analysis differs (other detectors, other embedder) is left alone.
 */
function write(events: readonly ArenaEvent[], bodies: readonly EventBody[], runDir: string, validBytes: number, runId: string, io: CliIO): boolean {
  // Finished: a run.finished that no later run.resumed reopened (analysis may already follow it).
  const last = events.findLast((e) => e.type === 'run.finished' || e.type === 'run.resumed');
  if (last?.type !== 'run.finished') {
    io.stderr.write(`arena analyze: ${runId}: not finished (still running, or interrupted); not written\n`);
    return false;
  }
  const existing = events.filter((e) => ANALYSIS_TYPES.has(e.type)).map(eventBodyJson);
  const fresh = bodies.map((b) => canonicalJson(b));
  if (existing.some((e, i) => e !== fresh[i])) {
    io.stderr.write(`arena analyze: ${runId}: the log already holds different analysis (other detectors or embedder); not written\n`);
    return false;
  }
  const missing = bodies.slice(existing.length);
  if (missing.length === 0) return true;
  const lastSeq = events.reduce((m, e) => Math.max(m, e.seq), 0);
  // A run inside a batch folder is covered by the batch's lock while the batch runs: take it too.
  const unlockBatch = lockBatchOfRun(runDir);
  let writer: RunLogWriter;
  try {
    writer = RunLogWriter.open(runDir, { validBytes });
  } catch (err) {
    unlockBatch();
    throw err;
  }
  try {
    // One moment for the whole analysis: it was computed at once.
    const now = new Date();
    const stamper = new EventStamper(last.runId, lastSeq, () => now);
    for (const body of missing) writer.append(stamper.next(body));
  } finally {
    writer.close();
    unlockBatch();
  }
  writer.throwIfFailed();
  return true;
}

function render(reports: readonly RunReport[]): string {
  const out: string[] = [];
  for (const r of reports) {
    out.push(`${r.runId}  ${r.runDir}`);
    if (r.attractors.length === 0) out.push('  no attractor');
    for (const a of r.attractors) {
      const until = a.exitedTurn === null ? 'still inside' : `left at turn ${a.exitedTurn}`;
      out.push(`  ${padEndTo(a.attractor, 16)} entered at turn ${a.enteredTurn}, ${until} (score ${a.score.toFixed(2)})`);
    }
  }
  return out.join('\n') + '\n';
}
