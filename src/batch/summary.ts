import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { enteredAttractors, type EnteredAttractor } from '../runlog/entered-attractors.js';
import { eventsFileOf } from '../runlog/layout.js';
import type { Manifest } from './manifest.js';
import type { RunOutcome, SkippedRun } from './outcome.js';

/** The counts of the `--json` line and of summary.json. */
export interface RunCounts {
  planned: number;
  /** Ended without failing: completed, or stopped by a limit or a user. */
  completed: number;
  failed: number;
  /** Not started (budget, wall time, Ctrl-C). */
  skipped: number;
  /**
   * Interrupted before the end (Ctrl-C, the wall-time limit), including runs a process pool had been sent
   * but not yet started; `arena batch resume` continues them.
   */
  interrupted: number;
}

/** One run of the batch in summary.json. */
export type BatchRunResult = Omit<RunOutcome, 'runDir'> & {
  cell: Manifest['runs'][number]['cell'];
  /**
   * The attractors its log says it entered (attractor.entered), each with its first turn, by turn; absent when
   * its log could not be read where the summary was written (e.g. a remote worker's run not collected).
   */
  attractors?: EnteredAttractor[];
};

/** summary.json: the whole batch at the end of an invocation (rewritten by each resume). */
export interface BatchSummary {
  batchId: string;
  batchDir: string;
  finishedAt: string;
  stoppedBy: string | null;
  runs: RunCounts;
  turns: number;
  costUsd: number;
  results: BatchRunResult[];
  skipped: SkippedRun[];
  /** Planned runs that neither ran nor were skipped here (no result known: a queue batch still running). */
  unknown: string[];
}

/** What `runBatch` and `collectBatch` return: the summary, and why its files could not be written, if so. */
export type WrittenSummary = BatchSummary & { summaryError?: string };

export function countRuns(planned: number, outcomes: readonly RunOutcome[], skipped: readonly SkippedRun[]): RunCounts {
  let completed = 0;
  let failed = 0;
  let interrupted = 0;
  for (const o of outcomes) {
    if (o.status === 'failed') failed++;
    else if (o.status === 'interrupted') interrupted++;
    else completed++;
  }
  return { planned, completed, failed, skipped: skipped.length, interrupted };
}

export function buildSummary(
  manifest: Manifest,
  batchDir: string,
  outcomes: readonly RunOutcome[],
  skipped: readonly SkippedRun[],
  stoppedBy: string | undefined,
  now: Date = new Date(),
): BatchSummary {
  const byId = new Map(outcomes.map((o) => [o.runId, o]));
  const skippedIds = new Set(skipped.map((s) => s.runId));
  const results: BatchSummary['results'] = [];
  const unknown: string[] = [];
  for (const run of manifest.runs) {
    const o = byId.get(run.runId);
    if (o) {
      const { runDir, ...rest } = o;
      const attractors = enteredAttractors(eventsFileOf(runDir));
      results.push({ ...rest, cell: run.cell, ...(attractors ? { attractors } : {}) });
    } else if (!skippedIds.has(run.runId)) unknown.push(run.runId);
  }
  return {
    batchId: manifest.batchId,
    batchDir,
    finishedAt: now.toISOString(),
    stoppedBy: stoppedBy ?? null,
    runs: countRuns(manifest.runs.length, outcomes, skipped),
    turns: outcomes.reduce((s, o) => s + o.turns, 0),
    costUsd: outcomes.reduce((s, o) => s + o.costUsd, 0),
    results,
    skipped: [...skipped],
    unknown,
  };
}

const usd = (x: number) => `$${x.toFixed(x < 1 ? 4 : 2)}`;

/** Text safe inside a Markdown table cell. */
const mdCell = (text: string) => text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/[\r\n]+/g, ' ');

/** A cell's pairing as the summary prints it, with its fork turn and condition for a forked run. */
function pairingText(cell: BatchRunResult['cell']): string {
  const pairing = cell.pairing ? cell.pairing.join(' × ') : '(scenario agents)';
  return cell.fork ? `${pairing}, fork at ${cell.fork.atTurn}: ${cell.fork.condition}` : pairing;
}

/** A human-readable report: counts, a table by scenario × pairing, stop reasons, skipped runs. */
export function summaryMarkdown(s: BatchSummary): string {
  const lines = [`# Batch ${s.batchId}`, ''];
  lines.push(
    `${s.runs.planned} planned · ${s.runs.completed} completed · ${s.runs.failed} failed · ${s.runs.interrupted} interrupted · ${s.runs.skipped} skipped · ${s.turns} turns · ${usd(s.costUsd)}`,
  );
  if (s.stoppedBy) lines.push('', `Stopped early: ${s.stoppedBy === 'wall_time' ? 'the wall-time limit was reached' : 'interrupted'}; \`arena batch resume ${s.batchDir}\` continues.`);
  const groups = new Map<string, { runs: number; completed: number; failed: number; turns: number; cost: number; reasons: Map<string, number>; entered: Map<string, number>; unread: number }>();
  for (const r of s.results) {
    const key = `${mdCell(r.cell.scenario)} | ${mdCell(pairingText(r.cell))}`;
    const g = groups.get(key) ?? { runs: 0, completed: 0, failed: 0, turns: 0, cost: 0, reasons: new Map(), entered: new Map(), unread: 0 };
    if (r.attractors) for (const a of r.attractors) g.entered.set(a.name, (g.entered.get(a.name) ?? 0) + 1);
    else g.unread++;
    g.runs++;
    if (r.status === 'failed') g.failed++;
    else if (r.status !== 'interrupted') g.completed++;
    g.turns += r.turns;
    g.cost += r.costUsd;
    g.reasons.set(r.stopReason, (g.reasons.get(r.stopReason) ?? 0) + 1);
    groups.set(key, g);
  }
  if (groups.size > 0) {
    lines.push('', '| scenario | pairing | runs | completed | failed | mean turns | cost | stop reasons | attractors entered (runs) |', '|---|---|---:|---:|---:|---:|---:|---|---|');
    for (const [key, g] of groups) {
      const reasons = [...g.reasons].map(([r, n]) => `${r} ${n}`).join(', ');
      const entered = [...g.entered].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([a, n]) => `${mdCell(a)} ${n}`);
      if (g.unread > 0) entered.push(`${g.unread} log${g.unread === 1 ? '' : 's'} not here`);
      lines.push(`| ${key} | ${g.runs} | ${g.completed} | ${g.failed} | ${(g.turns / g.runs).toFixed(1)} | ${usd(g.cost)} | ${reasons} | ${entered.join(', ') || 'none'} |`);
    }
    lines.push('', '## Attractors per run', '', 'The attractors each run entered, with the turn it first entered each (from its `attractor.entered` events).', '');
    lines.push('| run | scenario | pairing | status | turns | attractors entered (onset turn) |', '|---|---|---|---|---:|---|');
    for (const r of s.results) {
      const entered = r.attractors === undefined ? '(log not here)' : r.attractors.length === 0 ? 'none' : r.attractors.map((a) => `${mdCell(a.name)} (turn ${a.onsetTurn})`).join(', ');
      lines.push(`| ${mdCell(r.runId)} | ${mdCell(r.cell.scenario)} | ${mdCell(pairingText(r.cell))} | ${r.status} | ${r.turns} | ${entered} |`);
    }
  }
  const failures = s.results.filter((r) => r.status === 'failed');
  if (failures.length > 0) {
    lines.push('', '## Failed runs', '');
    for (const r of failures) lines.push(`- ${r.runId}: ${r.stopReason}${r.error ? ` (${r.error})` : ''}`);
  }
  if (s.skipped.length > 0) {
    lines.push('', '## Skipped runs', '');
    const why = {
      budget: 'the cost budget would have been passed',
      wall_time: 'the wall-time limit was reached',
      interrupted: 'the batch was interrupted',
      parent_ended: 'their parent ended before the fork turn',
    };
    for (const k of ['budget', 'wall_time', 'interrupted', 'parent_ended'] as const) {
      const ids = s.skipped.filter((x) => x.reason === k).map((x) => x.runId);
      if (ids.length > 0) lines.push(`- ${ids.length} not started because ${why[k]}: ${ids.join(', ')}`);
    }
  }
  return lines.join('\n') + '\n';
}

/**
 * Write summary.json and summary.md. Returns why they could not be written (a full disk), else undefined:
 * the batch still reports its runs, and no half-written file or temporary file is left behind.
 */
export function writeSummary(batchDir: string, summary: BatchSummary): string | undefined {
  const files: [string, string][] = [
    [join(batchDir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n'],
    [join(batchDir, 'summary.md'), summaryMarkdown(summary)],
  ];
  for (const [file, text] of files) {
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, text);
      renameSync(tmp, file);
    } catch (err) {
      rmSync(tmp, { force: true });
      const code = (err as NodeJS.ErrnoException).code;
      return `${file}: could not be written (${code === 'ENOSPC' ? 'the disk is full, ENOSPC' : (code ?? String(err))})`;
    }
  }
  return undefined;
}
