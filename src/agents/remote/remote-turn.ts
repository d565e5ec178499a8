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
import type { CachedCall, ModelCallCache } from './call-cache.js';
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
  /** The text continues a prefill: its leading whitespace is part of the turn even when trimming. */
  continuesPrefill?: boolean;
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
  /** Record/replay cache of provider calls (HTTP backends only). */
  cache?: ModelCallCache | undefined;
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
  const calls = new TurnCalls(cfg, signal, ch);

  let settled = false;
  const task = (async () => {
    let release: (() => void) | undefined;
    try {
      release = cfg.limiter ? await cfg.limiter.acquireSlot(signal) : undefined;
      const result = await body({ push: (p) => ch.push(p), call: (spec) => calls.call(spec) });
      ch.push({
        type: 'finish',
        reason: result.reason,
        usage: calls.total,
        // A replayed answer was paid for when it was recorded: only what was asked of the provider now costs.
        costUsd: costOf(calls.paid, cfg.price),
        attempts: Math.max(1, calls.attempts),
        ...(calls.replays > 0 && calls.attempts === 0 ? { replay: true } : {}),
      });
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

/** What one provider call (with the SDK's own retries inside it) has seen so far. */
interface CallState {
  /** Attempts the turn had made before this call. */
  attemptsBefore: number;
  /** Retries the SDK may make within this call. */
  sdkMaxRetries: number;
  /** A response began (2xx headers): a failure from here on is a broken stream. */
  responded: boolean;
  /** How long the server asked us to wait after the latest failed attempt. */
  retryAfter: number | undefined;
  /** What the fetch layer saw go wrong with the latest attempt; more precise than an SDK's "Request timed out." */
  fetchFailure: { attempt: number; error: AgentError } | undefined;
  /** Tokens-per-minute tickets, one per attempt; the last one is settled with the call's usage. */
  tickets: TokenTicket[];
  /** Ends the response still coming (cut at a stop string, or failed). */
  cut: AbortController;
  /** Set once the call's response has been read to its end: nothing is left to cut off then. */
  finished: boolean;
  /** The run's signal and `cut`. */
  signal: AbortSignal;
  /** The fetch the SDK is given for this call. */
  fetch: typeof globalThis.fetch;
  /** Counters the provider reported in this call. */
  usage: Usage;
  /** The call through the record/replay cache, when there is one. */
  cached: CachedCall | undefined;
}

/** The provider calls of one turn: attempts and failures counted across them, usage summed, every failure reported. */
class TurnCalls {
  attempts = 0;
  total = emptyUsage();
  /** Usage of what the provider answered in this turn (not replayed from the cache): what the turn costs. */
  paid = emptyUsage();
  /** Calls answered from the cache. */
  replays = 0;
  private failures = 0;
  private readonly log: Logger;

  constructor(
    private readonly cfg: RemoteTurnConfig,
    /** Aborted when the run stops or the consumer stops reading. */
    private readonly signal: AbortSignal,
    private readonly ch: Channel<AgentStreamPart>,
  ) {
    this.log = cfg.logger.child({ turn: cfg.turn });
  }

  /** One generation: calls the provider until it answers whole, or reports the final error and throws TurnLost. */
  async call(spec: CallSpec): Promise<CallResult> {
    const budget = this.cfg.maxRetries + 1;
    for (;;) {
      const call = this.begin(spec, budget);
      try {
        const result = await this.read(spec, call);
        if (call.cached?.answeredBy === 'cache') this.replays++;
        else await call.cached?.commit();
        return result;
      } catch (err) {
        if (this.signal.aborted) throw new AbortedError('aborted');
        this.account(call, call.usage);
        // A recorded answer that does not read as a whole one is dropped, so the next attempt asks the provider.
        await call.cached?.discard();
        const { error, retryable } = this.judge(err, call);
        const attempt = Math.max(1, this.attempts);
        if (call.responded || !this.cfg.http) this.failures++;
        if (retryable && this.attempts < budget) {
          this.report(error, attempt, true);
          await this.cfg.sleep(backoffMs(this.failures, call.responded ? undefined : call.retryAfter), this.signal);
          continue;
        }
        this.report(error, attempt, false);
        throw new TurnLost();
      } finally {
        // Abort only a response still coming (cut at a stop string, or failed): an abort creates an
        // exception with a stack trace, and a finished response's connection is already free.
        if (!call.finished) call.cut.abort();
      }
    }
  }

  /** A new call: its fetch counts, rate-limits and reports every HTTP attempt the SDK makes through it. */
  private begin(spec: CallSpec, budget: number): CallState {
    const { cfg } = this;
    const cut = new AbortController();
    const signal = AbortSignal.any([this.signal, cut.signal]);
    const cached =
      cfg.cache && cfg.http
        ? cfg.cache.call((input, init) => instrumented(input, init), {
            redact: cfg.redact,
            // Our side of the answer: the same bytes cut at other stop strings would be another turn.
            extra: { stops: spec.stops, trim: spec.trim, ...(spec.continuesPrefill ? { continuesPrefill: true } : {}) },
            warn: (message) => this.log.warn(message),
          })
        : undefined;
    const call: CallState = {
      attemptsBefore: this.attempts,
      sdkMaxRetries: cfg.sdkRetries ? Math.max(0, budget - this.attempts - 1) : 0,
      responded: false,
      retryAfter: undefined,
      fetchFailure: undefined,
      tickets: [],
      cut,
      finished: false,
      signal,
      fetch: (input, init) => (cached ? cached.fetch(input, init) : instrumented(input, init)),
      usage: emptyUsage(),
      cached,
    };
    const instrumented = instrumentFetch(cfg.fetch, {
      signal,
      stoppedByUser: () => this.signal.aborted,
      idleTimeoutMs: cfg.timeoutMs,
      // Our own timer, also under an SDK: it names the setting, and the SDK retries its error like a dropped connection.
      headersTimeoutMs: cfg.firstByteTimeoutMs ?? cfg.timeoutMs,
      ndjson: cfg.ndjson ?? false,
      observer: {
        beforeAttempt: cfg.limiter
          ? async (s) => {
              call.tickets.push(await cfg.limiter!.acquireRequest(spec.estimatedInputTokens, s));
            }
          : undefined,
        begin: () => ++this.attempts,
        responded: () => {
          call.responded = true;
        },
        failed: (attempt, error, retryable, wait) => {
          call.retryAfter = wait;
          call.fetchFailure = { attempt, error };
          this.failures++;
          // The SDK will retry exactly when it has retries left for a retryable failure.
          if (cfg.sdkRetries && retryable && attempt - call.attemptsBefore <= call.sdkMaxRetries) {
            this.report(toAgentError(error, { agentId: cfg.agentId, label: cfg.label, redact: cfg.redact }), attempt, true);
          }
        },
      },
      });
    if (!cfg.http) this.attempts++;
    return call;
  }

  /** Stream the call's parts out (text through the stop strings) and return the whole answer; throws if it ends early. */
  private async read(spec: CallSpec, call: CallState): Promise<CallResult> {
    const { ch } = this;
    const cutter = new StopCutter(spec.stops, spec.trim, spec.continuesPrefill ?? false);
    const usage = call.usage;
    let reason: FinishReason | undefined;
    let thinking = '';
    for await (const p of spec.run({ fetch: call.fetch, maxRetries: call.sdkMaxRetries, signal: call.signal })) {
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
    if (this.signal.aborted) throw new AbortedError('aborted');
    if (reason === undefined) throw new IncompleteStreamError('the response ended before the end-of-message marker (stream cut short)', { retryable: true });
    if (reason !== 'stop_sequence') {
      const t = cutter.flush();
      if (t) ch.push({ type: 'text-delta', text: t });
    }
    if (usage.inputTokens === 0) usage.inputTokens = spec.estimatedInputTokens;
    if (usage.outputTokens === 0 && cutter.text.length > 0) usage.outputTokens = estimateTokens(cutter.text + thinking);
    call.tickets.at(-1)?.settle(usage.inputTokens + usage.outputTokens);
    this.account(call, usage);
    call.finished = reason !== 'stop_sequence';
    return { text: cutter.text, thinking, reason, usage };
  }

  /** Add a call's usage to the turn's, and to what it costs unless the cache answered it. */
  private account(call: CallState, usage: Usage): void {
    this.total = addUsage(this.total, usage);
    if (call.cached?.answeredBy !== 'cache') this.paid = addUsage(this.paid, usage);
  }

  /** The error a failed call reports, and whether calling again may help. */
  private judge(err: unknown, call: CallState): { error: AgentError; retryable: boolean } {
    const { cfg } = this;
    const sdkError = toAgentError(err, { agentId: cfg.agentId, label: cfg.label, redact: cfg.redact });
    // A request that never got a response: the SDK's wrapper (no status) says less than what the fetch layer saw.
    const error =
      !call.responded && sdkError.details.status === undefined && call.fetchFailure?.attempt === this.attempts && call.fetchFailure.error.details.status === undefined
        ? toAgentError(call.fetchFailure.error, { agentId: cfg.agentId, label: cfg.label, redact: cfg.redact })
        : sdkError;
    // A broken stream (after a 2xx) is retried by us whatever the SDK does. A failed request was
    // already retried by the SDK when there is one, so then its budget is spent or the error final.
    const status = error.details.status;
    const retryable = call.responded ? status === undefined || retryableStatus(status) : (!cfg.sdkRetries || !cfg.http) && error.details.retryable === true;
    return { error, retryable };
  }

  private report(error: AgentError, attempt: number, willRetry: boolean): void {
    this.log.warn({ attempt, willRetry, error: { name: error.name, message: error.message, status: error.details.status } }, 'attempt failed');
    this.ch.push({ type: 'error', error, attempt, willRetry });
  }
}
