import { RunLogWriter } from '../../src/runlog/writer.js';
import type { ArenaEvent, EventBody, Verdict } from '../../src/runlog/events.js';
import { parseRunLog } from '../../src/runlog/reader.js';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import type { CliIO } from '../../src/cli/command.js';

/** A synthetic run: what the test knows about it in advance. */
export interface RunSpec {
  runId: string;
  scenario?: string;
  models?: [string, string];
  texts?: string[];
  /** Number of turns when no texts are given. */
  turns?: number;
  /** attractor → onset turn */
  entered?: Record<string, number>;
  finished?: { status: 'completed' | 'stopped' | 'failed' | 'interrupted'; stopReason: string } | null;
  failedTurns?: number;
  meta?: Record<string, unknown>;
  scores?: (turn: number) => Record<string, number>;
  drift?: (turn: number) => number;
  /** false: a log without any attractor analysis, like a fresh import (default true, as the arena writes). */
  analysed?: boolean;
  /** Attractors the analysis scores each turn when no `scores` are given (default: those in `entered`). */
  attractors?: string[];
}

/** Write a run log the way the arena does (through RunLogWriter) under `<dir>/<runId>/`. */
export function writeRun(dir: string, spec: RunSpec): void {
  const w = RunLogWriter.open(`${dir}/${spec.runId}`);
  let seq = 0;
  const put = (body: EventBody) => w.append({ v: 1, seq: ++seq, ts: '2026-01-01T00:00:00.000Z', runId: spec.runId, ...body } as ArenaEvent);
  const models = spec.models ?? ['m1', 'm2'];
  put({ type: 'run.started', scenario: { name: spec.scenario ?? 'free' }, agents: [{ id: 'a', name: 'A', backend: 'scripted', model: models[0] }, { id: 'b', name: 'B', backend: 'scripted', model: models[1] }], seed: 1, limits: { maxTurns: 100 }, ...(spec.meta ? { meta: spec.meta } : {}) });
  const n = spec.texts?.length ?? spec.turns ?? 0;
  for (let t = 1; t <= n; t++) {
    const agentId = t % 2 ? 'a' : 'b';
    put({ type: 'turn.started', turn: t, agentId });
    if (t === 1) for (let f = 0; f < (spec.failedTurns ?? 0); f++) put({ type: 'turn.failed', turn: t, agentId, attempt: f + 1, error: { name: 'E', message: 'x' }, willRetry: false });
    put({ type: 'turn.delta', turn: t, agentId, text: 'partial' });
    put({ type: 'turn.completed', turn: t, agentId, text: spec.texts?.[t - 1] ?? `turn ${t}`, finishReason: 'stop', usage: { inputTokens: 10, outputTokens: 5 }, costUsd: 0.01, latencyMs: 1, attempts: 1 });
    if (spec.analysed === false) continue;
    const scored = spec.attractors ?? Object.keys(spec.entered ?? {});
    const scores = spec.scores?.(t) ?? Object.fromEntries(scored.map((a) => [a, (spec.entered?.[a] ?? Infinity) <= t ? 0.9 : 0.1]));
    put({ type: 'analysis.turn', turn: t, features: spec.drift ? { drift: spec.drift(t) } : {}, scores });
    for (const [attractor, onset] of Object.entries(spec.entered ?? {})) {
      if (onset === t) put({ type: 'attractor.entered', attractor, turn: t, score: 0.9, evidence: {} });
    }
  }
  if (spec.finished !== null) {
    const f = spec.finished ?? { status: 'completed', stopReason: 'max_turns' };
    put({ type: 'run.finished', ...f, turns: n, totals: { inputTokens: 10 * n, outputTokens: 5 * n, costUsd: 0.01 * n, failedAttempts: 0, wallTimeMs: 1 } });
  }
  w.close();
}

/** A CliIO that collects what a command prints. */
export function captureIO(cwd: string): { io: CliIO; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const sink = (f: (s: string) => void) => new Writable({ write(chunk, _enc, cb) { f(String(chunk)); cb(); } });
  const io: CliIO = { stdout: sink((s) => (out += s)), stderr: sink((s) => (err += s)), env: {}, cwd, isTTY: false };
  return { io, out: () => out, err: () => err };
}

/** The last line of stdout parsed as JSON (the --json contract). */
export function lastJson(text: string): unknown {
  const lines = text.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!);
}

/** A judge's verdict on one attractor, as a judgement event holds it (confidence 0.8, a quoted evidence when present). */
export function verdict(attractor: string, present: boolean, onsetTurn: number | null = null): Verdict {
  return { attractor, present, onsetTurn: present ? onsetTurn : null, confidence: 0.8, evidence: present ? `"${attractor} here"` : '' };
}

/** What a test says about one judgement: the judge (default openai:gpt-4o-mini), its window, and verdicts or a failure. */
export type JudgementSpec = { judge?: { backend: string; model: string }; window: [number, number] } & ({ verdicts: Verdict[] } | { failure: { kind: 'malformed' | 'refusal' | 'error'; message: string } });

/** Append judgement events to `<dir>/<runId>/events.jsonl` through the real writer, after what the log holds. */
export function appendJudgements(dir: string, runId: string, judgements: readonly JudgementSpec[]): void {
  const runDir = `${dir}/${runId}`;
  const log = parseRunLog(readFileSync(`${runDir}/events.jsonl`), `${runDir}/events.jsonl`);
  const lastSeq = log.events.at(-1)?.seq ?? 0;
  const w = RunLogWriter.open(runDir, { lastSeq });
  judgements.forEach((j, i) => {
    w.append({
      v: 1,
      seq: lastSeq + 1 + i,
      ts: '2026-01-02T00:00:00.000Z',
      runId,
      type: 'judgement',
      judge: j.judge ?? { backend: 'openai', model: 'gpt-4o-mini' },
      rubric: { name: 'builtin', hash: 'h1' },
      window: j.window,
      ...('verdicts' in j ? { verdicts: j.verdicts } : { failure: j.failure }),
      usage: { inputTokens: 800, outputTokens: 60 },
      costUsd: 0.0002,
    });
  });
  w.close();
}
