import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { z } from 'zod';
import { InputError } from '../errors.js';
import { runLogPath } from '../runlog/layout.js';
import { MANIFEST_FILE, readStoredManifest } from '../batch/manifest.js';
import { createBatch } from '../batch/run-batch.js';
import { forkBatchPlan } from '../batch/fork-batch.js';
import { childScenario, parseAgentOverride, parentScenario } from '../fork/child-scenario.js';
import { checkForkTurn, readParentLog, type ParentLog } from '../fork/fork-log.js';
import { configFromId } from '../analysis/create-embedder.js';
import { EMBEDDER_KINDS, type EmbedderKind } from '../analysis/embedder.js';
import { eventsFileOf } from '../runlog/layout.js';
import type { Perturbation } from '../fork/fork-meta.js';
import { defineCommand, printJson, type CliIO } from './command.js';
import { intFlag, numberFlag, parse } from './_args.js';
import { locateRun } from './_locate-run.js';
import batchCommand from './batch.js';
import { cacheOf } from './_run-command.js';

const usage = `usage: arena fork <run folder | events.jsonl | runId> --at T[,T2,…] --samples N [options]
       arena fork --resume <fork folder> [options]

Fork a run at turn T into N child runs: each child starts with the parent's turns 1..T copied from its log
(never generated again) and continues from turn T + 1 with a seed of its own, derived from (--seed or the
parent's seed, T, sample), so children differ from each other and a rerun gives the same children.
The children are a batch: <runs-dir>/fork-<parentRunId>-<UTC time>/ (or --out) holds batch.json, one
folder per child and summary.json/.md; a killed fork continues with \`arena fork --resume <folder>\`
(or \`arena batch resume <folder>\`). Each child's run.started says meta.fork {parentRunId, parentRunDir,
atTurn, sample, perturbation, condition, baseSeed}. Exit codes: 0 done, 1 some child failed, 2 bad input,
130 interrupted.

  --at T[,T2,…]       fork turn(s): N children at each (the parent must have completed turn T)
  --samples N         children per fork turn (default 1)
  --inject TEXT       perturbation: a message written after turn T, before the child's first turn
  --as WHO            who the injected message is from: narrator (default) or an agent id
  --agent ID=B:M      perturbation: agent ID speaks through backend B, model M in the generated turns
                      (repeatable; scripted:<generator kind> for a scripted agent)
  --prefill TEXT      perturbation: the first generated turn starts from TEXT (assistant prefill; see the README)
  --seed S            base seed the children's seeds derive from (default: the parent's)
  --max-turns M       the children's turn limit, copied turns included (default: the parent's)
  --fast              scripted agents stream without their pause between chunks
  --out DIR           the fork's batch folder (default under --runs-dir)
  --runs-dir DIR      where the parent is looked up by id and the fork folder goes (default: runs)
  --concurrency N     children at once (default 4)
  --budget USD        cost budget for the children's generated turns
  --wall-time SEC     stop starting children and interrupt running ones after SEC
  --processes N       run the children in N processes
  --embeddings K      the children's live embedding analysis: offline | openai | ollama | none (default: the
                      embedder of the parent's embedding events, else none)
  --cache DIR         record the children's model calls in DIR; each child (fork turn, sample) keys its own,
                      so running the same fork again replays every child, and samples still differ
  --json              print {parentRunId, atTurn, atTurns, batchId, batchDir, runs: [{runId, runDir, atTurn, sample, status}]}
  --quiet             no progress line
  --log-level L       level of <fork folder>/batch.log (default info)`;

const FLAGS = {
  at: { type: 'string' },
  samples: { type: 'string' },
  inject: { type: 'string' },
  as: { type: 'string' },
  agent: { type: 'string', multiple: true },
  prefill: { type: 'string' },
  seed: { type: 'string' },
  'max-turns': { type: 'string' },
  fast: { type: 'boolean' },
  out: { type: 'string' },
  resume: { type: 'string' },
  'runs-dir': { type: 'string' },
  concurrency: { type: 'string' },
  budget: { type: 'string' },
  'wall-time': { type: 'string' },
  processes: { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  'log-level': { type: 'string' },
  embeddings: { type: 'string' },
  cache: { type: 'string' },
} as const;

type Values = ReturnType<typeof parse<typeof FLAGS>>['values'];

/** `--at 4,8,12` as distinct turns in the order given. */
function forkTurns(value: string | undefined): number[] {
  if (value === undefined) throw new InputError('arena fork needs --at T (the turn to fork at; several as --at 4,8,12)');
  const turns = value.split(',').map((part) => intFlag(part.trim(), '--at', 1)!);
  return [...new Set(turns)];
}

/** `--embeddings K` as given, checked. */
function embeddingsFlag(value: string | undefined): EmbedderKind | undefined {
  if (value === undefined) return undefined;
  const kind = EMBEDDER_KINDS.find((k) => k === value);
  if (!kind) throw new InputError(`--embeddings must be one of ${EMBEDDER_KINDS.join(', ')}, got '${value}'`);
  return kind;
}

/** The embedder behind the parent's `embedding` events (its children then get trajectories alike), else none. */
function parentEmbeddings(parent: ParentLog): EmbedderKind {
  for (const { event } of parent.lines) {
    if (event.type !== 'embedding') continue;
    const kind = configFromId(event.model)?.kind;
    if (kind) return kind;
  }
  return 'none';
}

/** The embedder of a fork folder's children when --resume is not told: its (first) parent's. */
async function storedParentEmbeddings(batchDir: string): Promise<EmbedderKind> {
  const first = readStoredManifest(batchDir).runs.find((r) => 'fork' in r && r.fork);
  const parentDir = first && 'fork' in first && first.fork ? resolve(batchDir, first.fork.parentDir) : undefined;
  if (parentDir === undefined) return 'none';
  try {
    return parentEmbeddings(await readParentLog(eventsFileOf(parentDir)));
  } catch {
    // The parent has moved or gone: its children's copies are what is left; analyse them without embeddings.
    return 'none';
  }
}

/** The flags `arena batch resume` takes, as given to `arena fork`. */
function batchFlags(values: Values): string[] {
  const out: string[] = [];
  for (const flag of ['concurrency', 'budget', 'wall-time', 'processes', 'log-level', 'cache', 'embeddings'] as const) {
    const v = values[flag];
    if (v !== undefined) out.push(`--${flag}`, v);
  }
  if (values.quiet) out.push('--quiet');
  return out;
}

function perturbationOf(values: Values, agents: Record<string, string>): Perturbation | null {
  if (values.as !== undefined && values.inject === undefined) throw new InputError('--as says who an injected message is from; give --inject TEXT too');
  const p: Perturbation = {
    ...(values.inject !== undefined ? { inject: { text: values.inject, as: values.as ?? 'narrator' } } : {}),
    ...(values.prefill !== undefined ? { prefill: { text: values.prefill } } : {}),
    ...(Object.keys(agents).length > 0 ? { agents } : {}),
  };
  return Object.keys(p).length > 0 ? p : null;
}

export default defineCommand({
  name: 'fork',
  summary: 'fork a run at turn T into N children that share its first T turns (resample or perturb)',
  usage,
  async run(args, io) {
    const { values, positionals } = parse(args, FLAGS, usage);
    intFlag(values.concurrency, '--concurrency', 1);
    intFlag(values.processes, '--processes', 1);
    numberFlag(values.budget, '--budget');
    numberFlag(values['wall-time'], '--wall-time');
    embeddingsFlag(values.embeddings);
    // A cache folder that cannot be written is refused before the fork folder is made.
    const cache = await cacheOf(values, io);
    if (cache) values.cache = cache.dir;
    if (values.resume !== undefined) {
      if (positionals.length > 0 || values.at !== undefined) throw new InputError('--resume continues a fork folder; give no run and no --at with it');
      const batchDir = resolve(io.cwd, values.resume);
      return runForkBatch(batchDir, { ...values, embeddings: values.embeddings ?? (await storedParentEmbeddings(batchDir)) }, io);
    }
    if (positionals.length !== 1) throw new InputError(`expected one run to fork, got ${positionals.length}\n${usage}`);
    const atTurns = forkTurns(values.at);
    const samples = intFlag(values.samples, '--samples', 1) ?? 1;
    if (values.prefill === '') throw new InputError('--prefill needs a text to start the turn from');
    const runsDir = resolve(io.cwd, values['runs-dir'] ?? io.env.ARENA_RUNS_DIR ?? 'runs');
    const file = await runLogPath(locateRun(positionals[0]!, io.cwd, runsDir));
    const parent = await readParentLog(file);
    for (const t of atTurns) checkForkTurn(parent, t);
    const scenarioOfParent = parentScenario(parent.started, file);
    const agents = Object.fromEntries((values.agent ?? []).map(parseAgentOverride));
    const maxTurns = intFlag(values['max-turns'], '--max-turns', 1);
    const baseSeed = intFlag(values.seed, '--seed') ?? parent.started.seed;
    const scenario = childScenario(scenarioOfParent, { seed: baseSeed, agents, ...(maxTurns !== undefined ? { maxTurns } : {}), ...(values.fast ? { fast: true } : {}) });
    const last = Math.max(...atTurns);
    if (scenario.limits.maxTurns <= last) {
      throw new InputError(`the children's turn limit is ${scenario.limits.maxTurns}, so a fork at turn ${last} has no turn to generate; pass --max-turns above ${last}`);
    }
    const perturbation = perturbationOf(values, agents);
    const as = perturbation?.inject?.as;
    if (as !== undefined && as !== 'narrator' && !scenario.agents.some((a) => a.id === as)) {
      throw new InputError(`--as: no agent '${as}' in the parent run (agents: ${scenario.agents.map((a) => a.id).join(', ')}, or narrator)`);
    }
    const out = values.out === undefined ? undefined : resolve(io.cwd, values.out);
    if (out !== undefined && existsSync(join(out, MANIFEST_FILE))) throw new InputError(`${out} already holds a batch; continue it with arena fork --resume ${out}`);
    const scenarioFile = parent.started.scenarioFile;
    const plan = forkBatchPlan({
      parent,
      parentRunDir: dirname(file),
      atTurns,
      samples,
      perturbation,
      scenario,
      scenarioDir: scenarioFile ? dirname(scenarioFile) : dirname(file),
      baseSeed,
      runsDir,
      ...(out !== undefined ? { batchDir: out } : {}),
      ...(values.concurrency !== undefined ? { concurrency: intFlag(values.concurrency, '--concurrency', 1)! } : {}),
      ...(values.budget !== undefined ? { budgetUsd: numberFlag(values.budget, '--budget')! } : {}),
    });
    const { batchDir } = createBatch(plan.loaded, plan.runsDir, { batchId: plan.batchId });
    io.stderr.write(`fork of ${parent.started.runId} at turn${atTurns.length > 1 ? 's' : ''} ${atTurns.join(', ')}: ${plan.loaded.runs.length} children → ${batchDir}\n`);
    return runForkBatch(batchDir, { ...values, embeddings: values.embeddings ?? parentEmbeddings(parent) }, io);
  },
});

/** Run (or continue) a fork's batch as `arena batch resume` runs one, and report its children. */
async function runForkBatch(batchDir: string, values: Values, io: CliIO): Promise<number> {
  const stored = readStoredManifest(batchDir);
  const forks = stored.runs.flatMap((r) => ('fork' in r && r.fork ? [{ runId: r.runId, fork: r.fork }] : []));
  if (forks.length === 0) throw new InputError(`${join(batchDir, MANIFEST_FILE)}: this batch forks no run; continue it with arena batch resume ${batchDir}`);
  // The batch's own --json line is read here and replaced by the fork's; everything else passes through.
  let captured = '';
  const stdout = values.json
    ? new Writable({
        write(chunk: Buffer | string, _enc, done) {
          captured += chunk.toString();
          done();
        },
      })
    : io.stdout;
  const code = await batchCommand.run(['resume', batchDir, ...batchFlags(values), ...(values.json ? ['--json'] : [])], { ...io, stdout });
  if (values.json) {
    const status = statusesOf(batchDir);
    const atTurns = [...new Set(forks.map((f) => f.fork.atTurn))];
    printJson(io, {
      parentRunId: forks[0]!.fork.parentRunId,
      ...(atTurns.length === 1 ? { atTurn: atTurns[0] } : {}),
      atTurns,
      batchId: stored.batchId,
      batchDir,
      runs: forks.map((f) => ({
        runId: f.runId,
        runDir: join(batchDir, f.runId),
        atTurn: f.fork.atTurn,
        sample: f.fork.sample,
        status: status.get(f.runId) ?? 'not started',
      })),
    });
  }
  return code;
}

/** What the fork reads of summary.json. */
const SummaryStatusSchema = z.object({
  results: z.array(z.object({ runId: z.string(), status: z.string() })),
  skipped: z.array(z.object({ runId: z.string() })),
});

/** Each run's status from the summary the batch just wrote ('skipped' for runs it did not start). */
function statusesOf(batchDir: string): Map<string, string> {
  const out = new Map<string, string>();
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(join(batchDir, 'summary.json'), 'utf8'));
  } catch {
    // No summary (it could not be written): every child reads as not started, and the exit code says why.
    return out;
  }
  const parsed = SummaryStatusSchema.safeParse(raw);
  if (!parsed.success) return out;
  for (const r of parsed.data.results) out.set(r.runId, r.status);
  for (const s of parsed.data.skipped) out.set(s.runId, 'skipped');
  return out;
}
