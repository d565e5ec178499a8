import type { Logger } from 'pino';
import type { AgentStreamPart, FinishReason } from '../agent.js';
import { emptyUsage, type Usage } from '../../usage.js';
import { AbortedError, AgentError } from '../../errors.js';
import type { RateLimiter, TokenTicket } from '../limiter.js';
import { addUsage, costOf, type Price } from '../prices.js';
import { estimateTokens } from '../_tokens.js';
import { Channel } from './_channel.js';
import type { Sleep } from '../../clock.js';
import { instrumentFetch } from './instrumented-fetch.js';
import { StopCutter } from './stop-cutter.js';
import { IncompleteStreamError, retryableStatus, toAgentError } from './stream-errors.js';

/** What one provider call yields, in provider-neutral terms. */
export type ProviderPart =
  | { type: 'text'; text: string }
  | { type: 'thinking'; text: string }
  /** Counters known so far; later values replace earlier ones (providers report cumulative counts). */
  | { type: 'usage'; usage: Partial<Usage> }
  /** The provider's end-of-message marker. A call that ends without one is a broken stream. */
  | { type: 'done'; reason: FinishReason };

export interface CallContext {
  /** fetch to hand to the SDK: counts, limits and reports every attempt. */
  fetch: typeof globalThis.fetch;
  /** Retries the SDK may make by itself in this call (the rest of the turn's budget). */
  maxRetries: number;
  /** Aborted when the run stops or when we have cut the stream at a stop string. */
  signal: AbortSignal;
}

export interface CallSpec {
  run(ctx: CallContext): AsyncIterable<ProviderPart>;
  /** Stop strings applied to the text on our side (servers may ignore or cap theirs). */
  stops: readonly string[];
  /** Trim the turn's leading and trailing whitespace (base models). */
  trim: boolean;
  /** Input size, for tokens-per-minute limits and when the server reports no usage. */
  estimatedInputTokens: number;
}

export interface CallResult {
  text: string;
  thinking: string;
  reason: FinishReason;
  usage: Usage;
}

/** What a backend's turn body can do. */
export interface TurnControl {
  push(part: AgentStreamPart): void;
  /** One generation, with retries; throws (after reporting the final error) when the turn is lost. */
  call(spec: CallSpec): Promise<CallResult>;
}

export interface RemoteTurnConfig {
  agentId: string;
  turn: number;
  /** `agent 'x' (anthropic claude-…)`, the start of every error message. */
  label: string;
  maxRetries: number;
  /** Longest silence inside a response. */
  timeoutMs: number;
  /** Longest wait for a response to begin (its headers); defaults to timeoutMs. */
  firstByteTimeoutMs?: number;
  /** The SDK retries failed requests itself (Anthropic, OpenAI); otherwise the turn does. */
  sdkRetries: boolean;
  /** Talks HTTP through `fetch` (false for in-process models: each call counts as one attempt). */
  http: boolean;
  /** Check response bodies as NDJSON (Ollama). */
  ndjson?: boolean;
  fetch: typeof globalThis.fetch;
  limiter?: RateLimiter;
  sleep: Sleep;
  price: Price | undefined;
  redact: (s: string) => string;
  logger: Logger;
  signal: AbortSignal;
}

/** Thrown inside a turn body once the final error has been reported; ends the stream quietly. */
class TurnLost extends Error {}

function backoffMs(failures: number, retryAfter: number | undefined): number {
  if (retryAfter !== undefined) return Math.min(retryAfter, 120_000);
  return Math.min(8000, 500 * 2 ** Math.max(0, failures - 1)) * (1 - Math.random() * 0.25);
}

function mergeUsage(into: Usage, part: Partial<Usage>): void {
  for (const [k, v] of Object.entries(part) as [keyof Usage, number | undefined][]) {
    if (typeof v === 'number' && Number.isFinite(v)) into[k] = v;
  }
}

/**
 * Runs one turn of a remote backend and turns it into agent stream parts. Every failed attempt
 * becomes an `error` part (willRetry true while the budget of maxRetries + 1 attempts lasts); a
 * response cut short, stalled or malformed is never passed off as a shorter turn: the whole call is
 * tried again or the turn fails with `willRetry: false` and the stream ends without `finish`.
 */
export async function* remoteTurn(cfg: RemoteTurnConfig, body: (turn: TurnControl) => Promise<CallResult>): AsyncGenerator<AgentStreamPart> {
  const ch = new Channel<AgentStreamPart>();
  const local = new AbortController();
  const signal = AbortSignal.any([cfg.signal, local.signal]);
  const log = cfg.logger.child({ turn: cfg.turn });
  let attempts = 0;
  let failures = 0;
  let total = emptyUsage();

  const report = (error: AgentError, attempt: number, willRetry: boolean) => {
    log.warn({ attempt, willRetry, error: { name: error.name, message: error.message, status: error.details.status } }, 'attempt failed');
    ch.push({ type: 'error', error, attempt, willRetry });
  };

  const call = async (spec: CallSpec): Promise<CallResult> => {
    const budget = cfg.maxRetries + 1;
    for (;;) {
      const callStart = attempts;
      const sdkMaxRetries = cfg.sdkRetries ? Math.max(0, budget - attempts - 1) : 0;
      let responded = false;
      let retryAfter: number | undefined;
      // What the fetch layer saw go wrong with the latest attempt; more precise than an SDK's "Request timed out."
      let fetchFailure: { attempt: number; error: AgentError } | undefined;
      const tickets: TokenTicket[] = [];
      const cut = new AbortController();
      // Set once the call's response has been read to its end: nothing is left to cut off then.
      let finished = false;
      const callSignal = AbortSignal.any([signal, cut.signal]);
      const fetch = instrumentFetch(cfg.fetch, {
        signal: callSignal,
        stoppedByUser: () => signal.aborted,
        idleTimeoutMs: cfg.timeoutMs,
        // Our own timer, also under an SDK: it names the setting, and the SDK retries its error like a dropped connection.
        headersTimeoutMs: cfg.firstByteTimeoutMs ?? cfg.timeoutMs,
        ndjson: cfg.ndjson ?? false,
        observer: {
          beforeAttempt: cfg.limiter
            ? async (s) => {
                tickets.push(await cfg.limiter!.acquireRequest(spec.estimatedInputTokens, s));
              }
            : undefined,
          begin: () => ++attempts,
          responded: () => {
            responded = true;
          },
          failed: (attempt, error, retryable, wait) => {
            retryAfter = wait;
            fetchFailure = { attempt, error };
            failures++;
            // The SDK will retry exactly when it has retries left for a retryable failure.
            if (cfg.sdkRetries && retryable && attempt - callStart <= sdkMaxRetries) {
              report(toAgentError(error, { agentId: cfg.agentId, label: cfg.label, redact: cfg.redact }), attempt, true);
            }
          },
        },
      });
      if (!cfg.http) attempts++;
      const cutter = new StopCutter(spec.stops, spec.trim);
      const usage = emptyUsage();
      let reason: FinishReason | undefined;
      let thinking = '';
      try {
        for await (const p of spec.run({ fetch, maxRetries: sdkMaxRetries, signal: callSignal })) {
          if (p.type === 'text') {
            const t = cutter.push(p.text);
            if (t) ch.push({ type: 'text-delta', text: t });
            if (cutter.stopped !== undefined) {
              reason = 'stop_sequence';
              break;
            }
          } else if (p.type === 'thinking') {
            thinking += p.text;
            ch.push({ type: 'thinking-delta', text: p.text });
          } else if (p.type === 'usage') {
            mergeUsage(usage, p.usage);
          } else {
            reason = p.reason;
          }
        }
        if (signal.aborted) throw new AbortedError('aborted');
        if (reason === undefined) throw new IncompleteStreamError('the response ended before the end-of-message marker (stream cut short)', { retryable: true });
        if (reason !== 'stop_sequence') {
          const t = cutter.flush();
          if (t) ch.push({ type: 'text-delta', text: t });
        }
        if (usage.inputTokens === 0) usage.inputTokens = spec.estimatedInputTokens;
        if (usage.outputTokens === 0 && cutter.text.length > 0) usage.outputTokens = estimateTokens(cutter.text + thinking);
        tickets.at(-1)?.settle(usage.inputTokens + usage.outputTokens);
        total = addUsage(total, usage);
        finished = reason !== 'stop_sequence';
        return { text: cutter.text, thinking, reason, usage };
      } catch (err) {
        if (signal.aborted) throw new AbortedError('aborted');
        total = addUsage(total, usage);
        const sdkError = toAgentError(err, { agentId: cfg.agentId, label: cfg.label, redact: cfg.redact });
        // A request that never got a response: the SDK's wrapper (no status) says less than what the fetch layer saw.
        const error =
          !responded && sdkError.details.status === undefined && fetchFailure?.attempt === attempts && fetchFailure.error.details.status === undefined
            ? toAgentError(fetchFailure.error, { agentId: cfg.agentId, label: cfg.label, redact: cfg.redact })
            : sdkError;
        const attempt = Math.max(1, attempts);
        // A broken stream (after a 2xx) is retried by us whatever the SDK does. A failed request was
        // already retried by the SDK when there is one, so then its budget is spent or the error final.
        const status = error.details.status;
        const retryable = responded
          ? status === undefined || retryableStatus(status)
          : (!cfg.sdkRetries || !cfg.http) && error.details.retryable === true;
        if (responded || !cfg.http) failures++;
        if (retryable && attempts < budget) {
          report(error, attempt, true);
          await cfg.sleep(backoffMs(failures, responded ? undefined : retryAfter), signal);
          continue;
        }
        report(error, attempt, false);
        throw new TurnLost();
      } finally {
        // Abort only a response still coming (cut at a stop string, or failed): an abort creates an
        // exception with a stack trace, and a finished response's connection is already free.
        if (!finished) cut.abort();
      }
    }
  };

  let settled = false;
  const task = (async () => {
    let release: (() => void) | undefined;
    try {
      release = cfg.limiter ? await cfg.limiter.acquireSlot(signal) : undefined;
      const result = await body({ push: (p) => ch.push(p), call });
      ch.push({ type: 'finish', reason: result.reason, usage: total, costUsd: costOf(total, cfg.price), attempts: Math.max(1, attempts) });
      ch.close();
    } catch (err) {
      if (err instanceof TurnLost) ch.close();
      else if (cfg.signal.aborted) ch.fail(new AbortedError('aborted'));
      else ch.fail(err);
    } finally {
      settled = true;
      release?.();
    }
  })();

  try {
    yield* ch;
  } finally {
    // The consumer stopped early (the run was stopped): end the call under way.
    if (!settled) local.abort();
    await task;
  }
}
