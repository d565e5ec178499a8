import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { Ollama } from 'ollama';
import type { Logger } from 'pino';
import { z } from 'zod';
import { AgentError, InputError } from '../errors.js';
import { emptyUsage, type Usage } from '../usage.js';
import { anthropicUsage, AnthropicUsageShape } from '../agents/chat/anthropic.js';
import { openAIUsageOf, OpenAIUsageShape } from '../agents/chat/openai.js';
import { timerSleep, type Sleep } from '../clock.js';
import { priceFor, type Price, type PriceTable } from '../agents/prices.js';
import { limiterKey, resolveEndpoint, type Provider } from '../agents/remote/endpoint.js';
import { providerFetch, proxySecrets } from '../agents/remote/provider-fetch.js';
import { redactor, sdkLogger, sdkLogLevel, urlSecrets } from '../agents/remote/redact.js';
import type { ModelCallCache } from '../agents/remote/call-cache.js';
import { ANSWER_TOOL } from './prompt.js';

export type JudgeBackend = Provider;
export const JUDGE_BACKENDS: readonly JudgeBackend[] = ['anthropic', 'openai', 'ollama'];

/** Which model judges, and where it is reached (the same variables as the chat backends: keys, base URLs, proxies). */
export interface JudgeSpec {
  backend: JudgeBackend;
  model: string;
  baseURL?: string | undefined;
  apiKeyEnv?: string | undefined;
  /** Retries of a failed HTTP request (the SDK's own for Anthropic and OpenAI). Default 2. */
  maxRetries?: number | undefined;
  /** Per request. Default 120 s. */
  timeoutMs?: number | undefined;
  /** Default 4096. */
  maxTokens?: number | undefined;
  /** Default 0. */
  temperature?: number | undefined;
}

export interface JudgeDeps {
  env: Readonly<Record<string, string | undefined>>;
  logger: Logger;
  fetch?: typeof globalThis.fetch;
  /** Wait between Ollama retries (its client has none of its own). */
  sleep?: Sleep;
  prices?: PriceTable;
  /**
   * The record/replay cache (`arena judge --cache`): a request identical to one recorded is answered from it,
   * and an answer is recorded only once the caller settles it as accepted (see JudgeReply.settle).
   */
  cache?: ModelCallCache;
}

/** One request: the prompt and the answer's JSON schema. */
export interface JudgeRequest {
  system: string;
  user: string;
  schema: Record<string, unknown>;
  signal?: AbortSignal | undefined;
}

/** What came back from one request, read but not yet validated against the rubric. */
export type JudgeOutcome =
  | { kind: 'answer'; value: unknown }
  | { kind: 'malformed'; problem: string }
  | { kind: 'refusal'; message: string };

export interface JudgeReply {
  usage: Usage;
  outcome: JudgeOutcome;
  /** Answered from the cache: nothing was sent, and `usage` is what the recorded answer said. */
  replay?: boolean;
  /**
   * With a cache: say whether the answer was used (it validated against the rubric). An accepted answer from
   * the provider is recorded; a replayed one that was not accepted is removed, so the next ask goes out.
   */
  settle?: (accepted: boolean) => Promise<void>;
}

/** A judge model on one backend. `ask` throws on HTTP errors that outlived the retries. */
export interface JudgeClient {
  backend: JudgeBackend;
  model: string;
  price: Price | undefined;
  /** Removes the key, URL secrets and proxy passwords from text (failure messages). */
  redact: (s: string) => string;
  /**
   * The key of the endpoint's rate limiter, as agents key theirs (provider, URL, key variable; never the key):
   * a judge and an agent on one account share limits through one LimiterRegistry.
   */
  limiterKey: string;
  ask(request: JudgeRequest): Promise<JudgeReply>;
}

/** `BACKEND:MODEL` as given to `--judge` (the model may hold colons itself: `ollama:llama3.1:8b`). */
export function parseJudgeFlag(text: string): { backend: JudgeBackend; model: string } {
  const at = text.indexOf(':');
  const backend = text.slice(0, Math.max(at, 0));
  const model = at >= 0 ? text.slice(at + 1).trim() : '';
  if (at < 0 || !model || !(JUDGE_BACKENDS as readonly string[]).includes(backend)) {
    throw new InputError(`--judge ${JSON.stringify(text)}: expected BACKEND:MODEL with BACKEND one of ${JUDGE_BACKENDS.join(', ')}`);
  }
  return { backend: backend as JudgeBackend, model };
}

const DEFAULTS = { maxRetries: 2, timeoutMs: 120_000, maxTokens: 4096, temperature: 0 };

/** Declining in words rather than answering: what a local model without a refusal channel does instead. */
const DECLINES = /\b(I can(?:no|'|’)t|I (?:must|have to|will) decline|I won(?:'|’)t|I'm (?:not able|unable)|I am (?:not able|unable)|I'm sorry|I apologi[sz]e)\b/iu;

function parseJson(text: string): JudgeOutcome {
  try {
    return { kind: 'answer', value: JSON.parse(text) as unknown };
  } catch {
    const quoted = text.length > 200 ? `${text.slice(0, 200)}…` : text;
    if (!text.includes('{') && DECLINES.test(text)) return { kind: 'refusal', message: quoted };
    return { kind: 'malformed', problem: `not JSON: ${JSON.stringify(quoted)}` };
  }
}

const Count = z.number().nullish();
const AnthropicMessage = z.looseObject({
  stop_reason: z.string().nullish(),
  content: z.array(z.looseObject({ type: z.string(), name: z.string().optional(), input: z.unknown().optional(), text: z.string().optional() })),
  usage: AnthropicUsageShape,
});

const OpenAICompletion = z.looseObject({
  choices: z.array(
    z.looseObject({
      message: z.looseObject({ content: z.string().nullish(), refusal: z.string().nullish() }),
      finish_reason: z.string().nullish(),
    }),
  ),
  usage: OpenAIUsageShape.nullish(),
});

const OllamaResponse = z.looseObject({
  message: z.looseObject({ content: z.string().nullish() }),
  done_reason: z.string().nullish(),
  prompt_eval_count: Count,
  eval_count: Count,
});

function shapeProblem(what: string, error: z.ZodError): JudgeReply {
  return { usage: { inputTokens: 0, outputTokens: 0 }, outcome: { kind: 'malformed', problem: `${what}: ${error.issues[0]?.message ?? 'bad shape'}` } };
}

/** An Ollama client error with its status kept and its body in words (the client stringifies an object body as [object Object]). */
function ollamaError(err: unknown, status: unknown): unknown {
  if (typeof status !== 'number') return err;
  const body = (err as { error?: unknown }).error;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return new AgentError(`Ollama: ${text}`, { status, retryable: false }, { cause: err });
}

/** A judge client on the chat backends' endpoint resolution, fetch (proxies) and redaction. */
export function createJudgeClient(spec: JudgeSpec, deps: JudgeDeps): JudgeClient {
  const id = `judge ${spec.backend}:${spec.model}`;
  let endpoint: ReturnType<typeof resolveEndpoint>;
  try {
    endpoint = resolveEndpoint(spec.backend, { id, backend: spec.backend, baseURL: spec.baseURL, apiKeyEnv: spec.apiKeyEnv }, deps.env);
  } catch (err) {
    // The endpoint's words name an agent; this is a judge.
    if (err instanceof InputError) throw new InputError(`${id}: ${err.message.replace(/^agent '[^']*' \([^)]*\): /u, '')}`, { cause: err });
    throw err;
  }
  const redact = redactor([endpoint.apiKey, ...urlSecrets(endpoint.baseURL), ...proxySecrets(deps.env)]);
  const fetch = deps.fetch ?? providerFetch(deps.env);
  const logger = deps.logger.child({ judge: { backend: spec.backend, model: spec.model } });
  const o = { ...DEFAULTS, ...Object.fromEntries(Object.entries(spec).filter(([, v]) => v !== undefined)) } as typeof DEFAULTS & JudgeSpec;
  const price = priceFor(spec.model, deps.prices);
  const base = { backend: spec.backend, model: spec.model, price, redact, limiterKey: limiterKey(endpoint) };
  const cache = deps.cache;
  /** One ask's fetch (through the cache when there is one) and how its reply says where it came from. */
  const oneCall = (): { fetch: typeof globalThis.fetch; finish: (reply: JudgeReply) => JudgeReply } => {
    if (!cache) return { fetch, finish: (reply) => reply };
    const call = cache.call(fetch, { redact });
    return {
      fetch: call.fetch,
      finish: (reply) => ({
        ...reply,
        ...(call.answeredBy === 'cache' ? { replay: true } : {}),
        settle: (accepted) => (accepted ? call.commit() : call.discard()),
      }),
    };
  };

  switch (spec.backend) {
    case 'anthropic': {
      const clientOf = (f: typeof globalThis.fetch) =>
        new Anthropic({
          apiKey: endpoint.apiKey ?? null,
          baseURL: endpoint.baseURL,
          maxRetries: o.maxRetries,
          timeout: o.timeoutMs,
          fetch: f,
          logger: sdkLogger(logger, redact),
          logLevel: sdkLogLevel(logger),
        });
      // With a cache each ask has a fetch of its own (it knows how its request was answered): a client per ask.
      const shared = cache ? undefined : clientOf(fetch);
      return {
        ...base,
        async ask(req) {
          const call = oneCall();
          return call.finish(await askAnthropic(shared ?? clientOf(call.fetch), req));
        },
      };
      async function askAnthropic(client: Anthropic, req: JudgeRequest): Promise<JudgeReply> {
        const raw = await client.messages.create(
          {
            model: spec.model,
            max_tokens: o.maxTokens,
            // As the chat backend sends it: the SDK's types no longer list it, the API still takes it.
            ...{ temperature: o.temperature },
            system: req.system,
            messages: [{ role: 'user', content: req.user }],
            tools: [{ name: ANSWER_TOOL, description: 'Record one verdict for each attractor of the rubric.', input_schema: { ...req.schema, type: 'object' } }],
            tool_choice: { type: 'tool', name: ANSWER_TOOL },
          },
          { signal: req.signal },
        );
        const parsed = AnthropicMessage.safeParse(raw);
        if (!parsed.success) return shapeProblem('malformed Messages API response', parsed.error);
        const m = parsed.data;
        const usage: Usage = { ...emptyUsage(), ...anthropicUsage(m.usage, true) };
        const text = m.content.filter((b) => b.type === 'text').map((b) => b.text ?? '').join('').trim();
        if (m.stop_reason === 'refusal') return { usage, outcome: { kind: 'refusal', message: text || 'stop_reason refusal' } };
        const call = m.content.find((b) => b.type === 'tool_use' && b.name === ANSWER_TOOL);
        if (call) return { usage, outcome: { kind: 'answer', value: call.input } };
        // The tool call was forced: answering in words instead is declining to judge.
        if (text) return { usage, outcome: { kind: 'refusal', message: text.length > 200 ? `${text.slice(0, 200)}…` : text } };
        return { usage, outcome: { kind: 'malformed', problem: `no ${ANSWER_TOOL} tool call in the response (stop_reason ${m.stop_reason ?? 'none'})` } };
      }
    }
    case 'openai': {
      const clientOf = (f: typeof globalThis.fetch) =>
        new OpenAI({
          // Compatible servers often need no key; the SDK insists on one, and this one is no secret.
          apiKey: endpoint.apiKey ?? 'no-key',
          baseURL: endpoint.baseURL,
          organization: null,
          project: null,
          maxRetries: o.maxRetries,
          timeout: o.timeoutMs,
          fetch: f,
          logger: sdkLogger(logger, redact),
          logLevel: sdkLogLevel(logger),
        });
      const shared = cache ? undefined : clientOf(fetch);
      return {
        ...base,
        async ask(req) {
          const call = oneCall();
          return call.finish(await askOpenAI(shared ?? clientOf(call.fetch), req));
        },
      };
      async function askOpenAI(client: OpenAI, req: JudgeRequest): Promise<JudgeReply> {
        const raw = await client.chat.completions.create(
          {
            model: spec.model,
            messages: [
              { role: 'system', content: req.system },
              { role: 'user', content: req.user },
            ],
            temperature: o.temperature,
            // Reasoning models on OpenAI's service take only max_completion_tokens; compatible servers know max_tokens.
            ...(endpoint.official ? { max_completion_tokens: o.maxTokens } : { max_tokens: o.maxTokens }),
            response_format: { type: 'json_schema', json_schema: { name: ANSWER_TOOL, schema: req.schema, strict: true } },
          },
          { signal: req.signal },
        );
        const parsed = OpenAICompletion.safeParse(raw);
        if (!parsed.success) return shapeProblem('malformed chat.completion', parsed.error);
        const usage: Usage = { ...emptyUsage(), ...(parsed.data.usage ? openAIUsageOf(parsed.data.usage) : {}) };
        const choice = parsed.data.choices[0];
        if (!choice) return { usage, outcome: { kind: 'malformed', problem: 'no choices in the response' } };
        if (choice.message.refusal) return { usage, outcome: { kind: 'refusal', message: choice.message.refusal } };
        if (choice.finish_reason === 'content_filter') return { usage, outcome: { kind: 'refusal', message: 'finish_reason content_filter' } };
        const content = choice.message.content ?? '';
        if (choice.finish_reason === 'length') return { usage, outcome: { kind: 'malformed', problem: `the answer was cut off at max tokens (${o.maxTokens})` } };
        return { usage, outcome: parseJson(content) };
      }
    }
    case 'ollama': {
      const key = endpoint.apiKey;
      const clientOf = (f: typeof globalThis.fetch) => new Ollama({ host: endpoint.baseURL, fetch: f, ...(key ? { headers: { Authorization: `Bearer ${key}` } } : {}) });
      const shared = cache ? undefined : clientOf(fetch);
      const sleep = deps.sleep ?? timerSleep;
      return {
        ...base,
        async ask(req) {
          const call = oneCall();
          return call.finish(await askOllama(shared ?? clientOf(call.fetch), req));
        },
      };
      async function askOllama(client: Ollama, req: JudgeRequest): Promise<JudgeReply> {
        let raw: unknown;
        for (let attempt = 0; ; attempt++) {
          try {
            raw = await client.chat({
              model: spec.model,
              stream: false,
              format: req.schema,
              messages: [
                { role: 'system', content: req.system },
                { role: 'user', content: req.user },
              ],
              options: { temperature: o.temperature, num_predict: o.maxTokens },
            });
            break;
          } catch (err) {
            const status = (err as { status_code?: unknown }).status_code;
            // The client has no retries: a busy or restarting server (429, 5xx, refused connection) is tried again.
            const retryable = typeof status === 'number' ? status === 429 || status >= 500 : err instanceof TypeError;
            if (!retryable || attempt >= o.maxRetries || req.signal?.aborted) throw ollamaError(err, status);
            await sleep(500 * 2 ** attempt, req.signal);
          }
        }
        const parsed = OllamaResponse.safeParse(raw);
        if (!parsed.success) return shapeProblem('malformed /api/chat response', parsed.error);
        const r = parsed.data;
        const usage: Usage = { inputTokens: r.prompt_eval_count ?? 0, outputTokens: r.eval_count ?? 0 };
        if (r.done_reason === 'length') return { usage, outcome: { kind: 'malformed', problem: `the answer was cut off at max tokens (${o.maxTokens})` } };
        return { usage, outcome: parseJson(r.message.content ?? '') };
      }
    }
    default: {
      const never: never = spec.backend;
      throw new InputError(`unknown judge backend ${JSON.stringify(never)}`);
    }
  }
}
