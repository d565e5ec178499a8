import { AgentError } from '../../errors.js';
import { MalformedChunkError, retryableStatus, StalledStreamError } from './stream-errors.js';

type Fetch = typeof globalThis.fetch;

/** What the fetch layer tells the turn about each HTTP attempt. */
export interface AttemptObserver {
  /** Runs before an attempt is sent (rate limits); may wait. */
  beforeAttempt?(signal: AbortSignal): Promise<void>;
  /** An attempt is being sent; returns its number within the turn. */
  begin(): number;
  /** A 2xx response arrived: from here on a failure is a broken stream, not a failed request. */
  responded(attempt: number): void;
  /** The attempt failed before a usable response: connection error, timeout, or an error status. */
  failed(attempt: number, error: AgentError, retryable: boolean, retryAfterMs: number | undefined): void;
}

export interface InstrumentOptions {
  observer: AttemptObserver;
  /** Aborts the attempt (the turn was stopped, or we cut the stream ourselves). */
  signal: AbortSignal;
  /** True when the abort came from the run being stopped: such attempts are not failures. */
  stoppedByUser(): boolean;
  /** Longest silence allowed between two chunks of a response body. */
  idleTimeoutMs: number;
  /** Also time out waiting for the response headers (clients without an SDK timeout). */
  headersTimeoutMs?: number;
  /** Check that every line of the body is a JSON object (Ollama's NDJSON; its client skips bad lines). */
  ndjson?: boolean;
}

/** `retry-after-ms` or `retry-after` (seconds or an HTTP date) in milliseconds. */
export function retryAfterMs(headers: Headers): number | undefined {
  const ms = Number.parseFloat(headers.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const raw = headers.get('retry-after');
  if (raw === null) return undefined;
  const s = Number.parseFloat(raw);
  if (Number.isFinite(s)) return Math.max(0, s * 1000);
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function shouldRetry(res: Response): boolean {
  const header = res.headers.get('x-should-retry');
  if (header === 'true') return true;
  if (header === 'false') return false;
  return retryableStatus(res.status);
}

function checkLines(text: string): void {
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new MalformedChunkError(`malformed line in the NDJSON stream: ${JSON.stringify(line.slice(0, 120))}`, { retryable: true });
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new MalformedChunkError(`unexpected line in the NDJSON stream: ${JSON.stringify(line.slice(0, 120))}`, { retryable: true });
    }
    // Ollama reports a failure mid-stream as a line {"error": …}; its client would throw it as "[object Object]" when it is not a string.
    if ('error' in value) throw new AgentError(`the server reported an error in the stream: ${errorText((value as { error: unknown }).error)}`, { retryable: false });
  }
}

/** What an error field says, whether a string or an object ({message, type, code}). */
export function errorText(error: unknown): string {
  if (typeof error === 'string') return error;
  if (error !== null && typeof error === 'object') {
    const { message, type, code } = error as { message?: unknown; type?: unknown; code?: unknown };
    if (typeof message === 'string') {
      const tags = [type, code].filter((x) => typeof x === 'string' || typeof x === 'number');
      return tags.length > 0 ? `${message} (${tags.join(', ')})` : message;
    }
  }
  return JSON.stringify(error)?.slice(0, 300) ?? String(error);
}

/** The body, failing with StalledStreamError when no chunk arrives for `idleMs`, and optionally line-checked. */
function guardBody(body: ReadableStream<Uint8Array>, idleMs: number, ndjson: boolean): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let partial = '';
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const stall = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new StalledStreamError(`the response stream stalled: no data for ${idleMs} ms`, { retryable: true })),
          idleMs,
        );
      });
      try {
        const r = await Promise.race([reader.read(), stall]);
        if (r.done) {
          if (ndjson) checkLines(partial + decoder.decode());
          controller.close();
          return;
        }
        if (ndjson) {
          const text = partial + decoder.decode(r.value, { stream: true });
          const cut = text.lastIndexOf('\n');
          checkLines(text.slice(0, cut + 1));
          partial = text.slice(cut + 1);
        }
        controller.enqueue(r.value);
      } catch (err) {
        reader.cancel(err).catch(() => undefined);
        controller.error(err);
      } finally {
        clearTimeout(timer);
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

/**
 * Wraps the fetch an SDK uses so that every HTTP attempt is seen: counted, rate-limited, reported when
 * it fails (with whether it is worth retrying and how long the server asked us to wait), and its body
 * guarded against stalls and bad lines. The SDK keeps doing its own retries through this fetch.
 */
export function instrumentFetch(base: Fetch, opts: InstrumentOptions): Fetch {
  return async (input, init) => {
    const { observer } = opts;
    await observer.beforeAttempt?.(opts.signal);
    const attempt = observer.begin();
    const own = new AbortController();
    const signals = [opts.signal, own.signal, ...(init?.signal ? [init.signal] : [])];
    const timer =
      opts.headersTimeoutMs === undefined
        ? undefined
        : setTimeout(
            () => own.abort(new StalledStreamError(`no response within ${opts.headersTimeoutMs} ms (firstByteTimeoutMs)`, { retryable: true })),
            opts.headersTimeoutMs,
          );
    let res: Response;
    try {
      res = await base(input, { ...init, signal: AbortSignal.any(signals) });
    } catch (err) {
      if (!opts.stoppedByUser()) {
        const reason = own.signal.aborted ? own.signal.reason : init?.signal?.aborted ? 'request timed out' : undefined;
        const error =
          reason instanceof AgentError
            ? reason
            : new AgentError(
                reason !== undefined ? `${String(reason)} (no response headers in time)` : `connection failed: ${err instanceof Error ? `${err.message}${err.cause instanceof Error ? ` (${err.cause.message})` : ''}` : String(err)}`,
                { retryable: true },
                { cause: err },
              );
        observer.failed(attempt, error, true, undefined);
        if (reason instanceof AgentError) throw reason;
      }
      throw err;
    } finally {
      clearTimeout(timer);
    }
    if (!res.ok) {
      const wait = retryAfterMs(res.headers);
      const error = new AgentError(
        `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${wait !== undefined ? ` (server asked to wait ${Math.round(wait)} ms)` : ''}`,
        { status: res.status, retryable: shouldRetry(res) },
      );
      observer.failed(attempt, error, shouldRetry(res), wait);
      // The Ollama client prints non-JSON error bodies to stdout, and turns an error that is an object into
      // "[object Object]": hand it JSON whose error is a sentence.
      if (opts.ndjson && res.body) {
        const text = await new Response(guardBody(res.body, opts.idleTimeoutMs, false)).text().catch(() => '');
        let said = text.trim().slice(0, 500);
        try {
          const parsed = JSON.parse(text) as unknown;
          if (parsed !== null && typeof parsed === 'object' && 'error' in parsed) said = errorText(parsed.error);
        } catch {
          // Not JSON: the text itself is what the server said.
        }
        return new Response(JSON.stringify({ error: said || `HTTP ${res.status}` }), {
          status: res.status,
          statusText: res.statusText,
          headers: { 'content-type': 'application/json' },
        });
      }
      return res;
    }
    observer.responded(attempt);
    if (!res.body) return res;
    return new Response(guardBody(res.body, opts.idleTimeoutMs, opts.ndjson ?? false), {
      status: res.status,
      statusText: res.statusText,
      headers: res.headers,
    });
  };
}
