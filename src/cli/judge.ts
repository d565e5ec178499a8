import { resolve } from 'node:path';
import { createJudgeClient, judgeRuns, loadRubricFile, parseJudgeFlag, rubricSet, type JudgeProgress, type JudgeRunsResult } from '../judge/index.js';
import { LimiterRegistry } from '../agents/limiter.js';
import { ProgressLine } from '../batch/progress.js';
import { InputError } from '../errors.js';
import { createLogger } from '../logger.js';
import { findRunLogs } from '../runlog/layout.js';
import { EXIT, defineCommand, printJson } from './command.js';
import { intFlag, logLevel, numberFlag, parse } from './_args.js';
import { cacheOf } from './_run-command.js';

const usage = `usage: arena judge [<run folder | folder | events.jsonl>...] --judge BACKEND:MODEL [options]

Ask a judge model whether finished runs fell into attractors, by a rubric; each answer is appended to the
run's log as a judgement event. Finds events.jsonl at any depth under the folders given (default: the runs
dir). A run not finished (still being written, or interrupted), or whose log another process holds, is
passed over with a warning (exit 2); the others are judged.
Answers are cached in the logs by (judge, rubric, window and its turns): running it again sends nothing
for windows already judged, and a killed judge picks up where it stopped.
  --judge BACKEND:MODEL  anthropic, openai or ollama, then the model (ollama:llama3.1:8b); keys and URLs
                         from the usual variables (ANTHROPIC_API_KEY, OPENAI_BASE_URL, OLLAMA_HOST, …)
  --rubric FILE          rubric YAML: replaces built-in rubrics of the same name, adds others
  --only LIST            attractor names to judge, comma-separated (default: every rubric)
  --window K             judge K turns at a time (default: the whole run in one request)
  --concurrency N        requests at once (default 4)
  --rpm N, --tpm N       at most N requests / N tokens (in + out) a minute, for the judge's rate limits
                         (kept as agents keep theirs: one limiter per endpoint and key variable)
  --budget USD           as a batch's budget: send a window only while the cost so far, plus the
                         windows in flight and this one at the mean cost of those judged, stays within
                         USD (those in flight finish); windows left are reported, exit 0
  --retry-failed         send again windows whose judgement was malformed or a refusal
                         (one that failed with an error is always sent again)
  --cache DIR            record the judge's answers in DIR, keyed by the whole request: a window sent again
                         with the same prompt (a copy of a run, a log whose judgements were removed) is
                         answered from it, nothing sent, cost 0; only answers that validated are kept
  --runs-dir DIR         the folder to judge when none is given (default: runs)
  --quiet                no progress line (the batch's line, counting windows, on stderr)
  --json                 print {runs: [{runId, runDir, windows: [{window, cached, replayed?, verdicts?, failure?}]}],
                         judged, cached, replayed, failed, failures, budgetStopped, costUsd, usage}`;

export default defineCommand({
  name: 'judge',
  summary: 'judge finished runs against attractor rubrics with a language model',
  usage,
  async run(args, io) {
    const { values, positionals } = parse(
      args,
      {
        judge: { type: 'string' },
        rubric: { type: 'string' },
        only: { type: 'string' },
        window: { type: 'string' },
        concurrency: { type: 'string' },
        budget: { type: 'string' },
        rpm: { type: 'string' },
        tpm: { type: 'string' },
        'retry-failed': { type: 'boolean' },
        'runs-dir': { type: 'string' },
        'log-level': { type: 'string' },
        cache: { type: 'string' },
        quiet: { type: 'boolean' },
        json: { type: 'boolean' },
      },
      usage,
    );
    if (!values.judge) throw new InputError('--judge BACKEND:MODEL is required (e.g. --judge openai:gpt-4o-mini)');
    const spec = parseJudgeFlag(values.judge);
    const windowSize = intFlag(values.window, '--window', 1);
    const concurrency = intFlag(values.concurrency, '--concurrency', 1) ?? 4;
    const budgetUsd = numberFlag(values.budget, '--budget');
    const requestsPerMinute = intFlag(values.rpm, '--rpm', 1);
    const tokensPerMinute = intFlag(values.tpm, '--tpm', 1);
    const file = values.rubric ? await loadRubricFile(resolve(io.cwd, values.rubric)) : undefined;
    const only = values.only?.split(',').map((s) => s.trim()).filter(Boolean);
    const rubric = rubricSet({ file, only });
    if (positionals.length === 0) positionals.push(values['runs-dir'] ?? io.env.ARENA_RUNS_DIR ?? 'runs');
    const files = await findRunLogs(positionals.map((p) => resolve(io.cwd, p)));
    if (files.length === 0) throw new InputError(`no events.jsonl found under ${positionals.join(', ')}`);

    const logger = createLogger({
      level: logLevel(values['log-level'], '--log-level') ?? logLevel(io.env.ARENA_LOG_LEVEL, 'ARENA_LOG_LEVEL') ?? 'warn',
      destination: io.stderr,
    });
    const cache = await cacheOf(values, io);
    const client = createJudgeClient(spec, { env: io.env, logger, ...(cache ? { cache } : {}) });
    const limiter =
      requestsPerMinute !== undefined || tokensPerMinute !== undefined
        ? new LimiterRegistry().get(client.limiterKey, {
            ...(requestsPerMinute !== undefined ? { requestsPerMinute } : {}),
            ...(tokensPerMinute !== undefined ? { tokensPerMinute } : {}),
          })
        : undefined;

    const abort = new AbortController();
    const onSigint = () => abort.abort();
    process.on('SIGINT', onSigint);
    const progress = values.quiet ? undefined : new JudgeProgressLine(io.stderr);
    let result: JudgeRunsResult;
    try {
      result = await judgeRuns({
        files,
        client,
        rubric,
        windowSize,
        concurrency,
        budgetUsd,
        limiter,
        retryFailed: values['retry-failed'],
        signal: abort.signal,
        warn: (line) => io.stderr.write(`warning: ${line}\n`),
        onProgress: progress ? (p) => progress.update(p) : undefined,
      });
    } finally {
      process.off('SIGINT', onSigint);
      progress?.end();
    }

    io.stderr.write(`${summaryLine(result)}\n`);
    if (result.budgetStopped > 0) {
      io.stderr.write(`arena judge: ${result.budgetStopped} window(s) not sent: the cost budget ($${budgetUsd}) was reached; run again to judge them\n`);
    }
    const output = {
      runs: result.runs.map((r) => ({ ...r })),
      judged: result.judged,
      cached: result.cached,
      replayed: result.replayed,
      failed: result.failed,
      failures: result.failures,
      budgetStopped: result.budgetStopped,
      costUsd: result.costUsd,
      usage: result.usage,
    };
    if (values.json) printJson(io, output);
    else io.stdout.write(render(result));
    if (result.interrupted) return EXIT.interrupted;
    return result.refusedRuns > 0 ? EXIT.usage : EXIT.ok;
  },
});

function summaryLine(r: JudgeRunsResult): string {
  const kinds = Object.entries(r.failures)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`);
  const failed = r.failed > 0 ? `${r.failed} failed (${kinds.join(', ')})` : '0 failed';
  const tokens = r.usage.inputTokens + r.usage.outputTokens;
  const replayed = r.replayed > 0 ? ` (${r.replayed} answered from the --cache folder)` : '';
  return `judged ${r.judged} window(s)${replayed}, ${r.cached} cached, ${failed} · ${tokens} tokens (${r.usage.inputTokens} in, ${r.usage.outputTokens} out) · $${r.costUsd.toFixed(4)}`;
}

function render(r: JudgeRunsResult): string {
  const out: string[] = [];
  for (const run of r.runs) {
    out.push(`${run.runId}  ${run.runDir}${run.skipped ? `  (${run.skipped})` : ''}`);
    if (!run.skipped && run.windows.length === 0) out.push('  no turns');
    for (const w of run.windows) {
      const head = `  turns ${w.window[0]}-${w.window[1]}${w.cached ? ' (cached)' : w.replayed ? ' (replayed from --cache)' : ''}:`;
      if (w.notJudged) out.push(`${head} not judged (${w.notJudged})`);
      else if (w.failure) out.push(`${head} ${w.failure.kind}: ${w.failure.message}`);
      else {
        const present = (w.verdicts ?? []).filter((v) => v.present).map((v) => `${v.attractor} from turn ${v.onsetTurn ?? '?'} (${v.confidence.toFixed(2)})`);
        out.push(`${head} ${present.length > 0 ? present.join(', ') : 'no attractor'}`);
      }
    }
  }
  return out.join('\n') + '\n';
}

/**
 * The batch's progress line (src/batch/progress.ts) over windows: `[###.......] 3/10 windows done · 2 running ·
 * 1 failed · 0.4 windows/s · $0.0123 · ETA 18s`, rewritten in place on a terminal, else a line every 10 s.
 */
class JudgeProgressLine {
  private readonly line: ProgressLine;
  private readonly started = Date.now();
  private seen = false;

  constructor(out: NodeJS.WritableStream) {
    this.line = new ProgressLine(out, Boolean((out as { isTTY?: boolean }).isTTY), 10_000, () => Date.now(), { unit: 'windows', rate: 'windows/s', costDigits: 4 });
  }

  update(p: JudgeProgress): void {
    if (p.planned === 0) return;
    this.seen = true;
    const sec = Math.max(0.001, (Date.now() - this.started) / 1000);
    const judged = p.done + p.failed;
    const rate = judged / sec;
    const left = p.planned - judged - p.skipped - p.interrupted;
    this.line.update({
      planned: p.planned,
      done: p.done,
      failed: p.failed,
      skipped: p.skipped,
      interrupted: p.interrupted,
      running: p.running,
      turns: 0,
      turnsPerSec: rate,
      costUsd: p.costUsd,
      etaSec: judged > 0 ? left / rate : undefined,
    });
  }

  end(): void {
    if (this.seen) this.line.end();
  }
}
