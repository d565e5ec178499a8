import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { AgentInfo, EventBody } from '../../runlog/events.js';
import { EVENTS_FILE } from '../../runlog/layout.js';
import { EventStamper } from '../../runlog/stamp.js';
import { RunLogWriter } from '../../runlog/writer.js';
import { SkipFile, type ImportedTranscript } from './transcript.js';

const slug = (s: string) => s.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40);

/**
 * The run id of an imported transcript: readable (from the file name) and stable (a hash of the path and
 * the conversation's place in the file), so importing the same corpus twice finds the runs already there.
 */
export function importedRunId(t: ImportedTranscript): string {
  const index = typeof t.source.index === 'number' ? t.source.index : 0;
  const hash = createHash('sha1').update(`${t.source.path}\0${index}`).digest('hex').slice(0, 10);
  const name = slug(basename(t.source.path).replace(/\.[^.]+$/, '')) || 'transcript';
  return `${name}${typeof t.source.index === 'number' ? `-${index + 1}` : ''}-${hash}`;
}

/** One agent per distinct speaker, in order of first appearance, with ids safe for any tool. */
function agentsOf(t: ImportedTranscript): { agents: AgentInfo[]; idOf: Map<string, string> } {
  const idOf = new Map<string, string>();
  const agents: AgentInfo[] = [];
  const used = new Set<string>();
  for (const { speaker } of t.turns) {
    if (idOf.has(speaker)) continue;
    const base = slug(speaker) || `speaker-${agents.length + 1}`;
    let id = base;
    for (let n = 2; used.has(id); n++) id = `${base}-${n}`;
    used.add(id);
    idOf.set(speaker, id);
    agents.push({ id, name: speaker, backend: 'imported', model: t.models.get(speaker) ?? 'unknown' });
  }
  return { agents, idOf };
}

/**
 * Write one transcript as a run log under `<runsDir>/<runId>/`: run.started (agents from the speakers,
 * `source` saying where it came from), turn.started + turn.completed per turn in order, run.finished.
 * Imported turns have no usage or latency; they are recorded as zero with finishReason 'imported'.
 */
export function writeImportedRun(runsDir: string, t: ImportedTranscript, now: Date = new Date()): { runId: string; runDir: string; turns: number } {
  if (t.turns.length === 0) throw new SkipFile('no turns');
  const runId = importedRunId(t);
  const runDir = join(runsDir, runId);
  if (existsSync(join(runDir, EVENTS_FILE))) throw new SkipFile(`already imported as ${runId}`);
  const { agents, idOf } = agentsOf(t);
  const writer = RunLogWriter.open(runDir);
  const stamper = new EventStamper(runId, 0, () => now);
  const put = (body: EventBody) => writer.append(stamper.next(body));
  try {
    put({
      type: 'run.started',
      scenario: { name: t.scenarioName, imported: true, ...(t.system !== undefined ? { system: t.system } : {}) },
      agents,
      seed: 0,
      limits: { maxTurns: t.turns.length },
      source: t.source,
    });
    const usage = { inputTokens: 0, outputTokens: 0 };
    t.turns.forEach(({ speaker, text }, i) => {
      const agentId = idOf.get(speaker)!;
      put({ type: 'turn.started', turn: i + 1, agentId });
      put({ type: 'turn.completed', turn: i + 1, agentId, text, finishReason: 'imported', usage, costUsd: 0, latencyMs: 0, attempts: 1, ...(text.trim() === '' ? { empty: true } : {}) });
    });
    put({
      type: 'run.finished',
      status: 'completed',
      stopReason: 'imported',
      turns: t.turns.length,
      totals: { inputTokens: 0, outputTokens: 0, costUsd: 0, failedAttempts: 0, wallTimeMs: 0 },
    });
  } finally {
    writer.close();
  }
  // A disk that filled up mid-import: say so rather than report a run the log does not hold.
  writer.throwIfFailed();
  return { runId, runDir, turns: t.turns.length };
}
