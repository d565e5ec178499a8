import type { AgentStreamPart, FinishReason } from './agent.js';
import type { Sleep } from '../clock.js';
import { AbortedError } from '../errors.js';

/** Split text into chunks of `words` words, keeping the whitespace so the chunks join back exactly. */
export function chunkText(text: string, words: number): string[] {
  if (words === Infinity) return text === '' ? [] : [text];
  const tokens = text.match(/\s*\S+/gu) ?? [];
  const trailing = text.slice(tokens.join('').length);
  const chunks: string[] = [];
  for (let i = 0; i < tokens.length; i += words) chunks.push(tokens.slice(i, i + words).join(''));
  if (trailing) chunks.push(trailing);
  return chunks;
}

/** Stream a finished text the way a model would: chunk by chunk, with a delay between chunks. */
export async function* streamText(
  text: string,
  opts: { delayMs: number; words: number; sleep: Sleep; signal: AbortSignal; reason: FinishReason },
): AsyncGenerator<AgentStreamPart> {
  const chunks = chunkText(text, opts.words);
  for (let i = 0; i < chunks.length; i++) {
    if (opts.signal.aborted) throw new AbortedError('aborted');
    if (i > 0 && opts.delayMs > 0) await opts.sleep(opts.delayMs, opts.signal);
    yield { type: 'text-delta', text: chunks[i]! };
  }
  const outputTokens = chunks.length === 0 ? 0 : text.trim().split(/\s+/u).length;
  yield { type: 'finish', reason: opts.reason, usage: { inputTokens: 0, outputTokens }, costUsd: 0, attempts: 1 };
}
