import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import type { AgentDeps, AgentStreamOptions, AgentStreamPart, Participant, TranscriptEntry } from '../../src/agents/agent.js';

/** A debug-level pino logger whose JSON lines are kept in `lines` (no redaction: we test our own hygiene). */
export function captureLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''));
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), lines };
}

export const instantSleep = async (_ms: number, signal?: AbortSignal) => {
  if (signal?.aborted) throw new Error('aborted');
};

export function testDeps(env: Record<string, string>, extra: Partial<AgentDeps> = {}): AgentDeps & { lines: string[] } {
  const { logger, lines } = captureLogger();
  return { env, scenarioDir: process.cwd(), logger, sleep: instantSleep, lines, ...extra };
}

export const ALICE: Participant = { id: 'alice', name: 'Alice' };
export const BOB: Participant = { id: 'bob', name: 'Bob' };

export function say(turn: number, who: Participant, text: string, kind: TranscriptEntry['kind'] = 'turn'): TranscriptEntry {
  return { turn, speakerId: who.id, speaker: who.name, text, kind };
}

export function streamOptions(o: Partial<AgentStreamOptions> & { self: Participant }): AgentStreamOptions {
  return {
    transcript: [],
    participants: [ALICE, BOB],
    turn: (o.transcript?.length ?? 0) + 1,
    signal: new AbortController().signal,
    sampling: {},
    stop: [],
    seed: 1,
    ...o,
  };
}

export async function collect(stream: AsyncIterable<AgentStreamPart>): Promise<AgentStreamPart[]> {
  const parts: AgentStreamPart[] = [];
  for await (const p of stream) parts.push(p);
  return parts;
}

/** The text a consumer ends up with: deltas after the last failed attempt, like the runner keeps them. */
export function finalText(parts: readonly AgentStreamPart[]): string {
  let text = '';
  for (const p of parts) {
    if (p.type === 'text-delta') text += p.text;
    if (p.type === 'error') text = '';
  }
  return text;
}

export function errors(parts: readonly AgentStreamPart[]) {
  return parts.flatMap((p) => (p.type === 'error' ? [{ attempt: p.attempt, willRetry: p.willRetry, message: p.error instanceof Error ? p.error.message : String(p.error), name: p.error instanceof Error ? p.error.name : '' }] : []));
}

export function finish(parts: readonly AgentStreamPart[]) {
  const f = parts.filter((p) => p.type === 'finish');
  return f.length === 1 ? f[0] : undefined;
}

/** Everything an agent gave out, as one string, to look for secrets in. */
export function everything(parts: readonly AgentStreamPart[], lines: readonly string[]): string {
  const errs = parts.map((p) => (p.type === 'error' && p.error instanceof Error ? `${p.error.name}: ${p.error.message} ${String(p.error.cause)}` : ''));
  return JSON.stringify(parts) + errs.join('\n') + lines.join('\n');
}
