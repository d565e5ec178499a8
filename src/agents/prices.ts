import type { Usage } from '../usage.js';

/** USD per million tokens. Cache prices default to the input price when a provider has none. */
export interface Price {
  input: number;
  output: number;
  /** Reading a cached prefix (Anthropic cache hits, OpenAI cached input). */
  cacheRead?: number;
  /** Writing a prefix into the cache (Anthropic 5-minute cache writes). */
  cacheWrite?: number;
}

export type PriceTable = Readonly<Record<string, Price>>;

/**
 * Published list prices for well-known models, per million tokens. Keys match a model name exactly or
 * as a prefix (`claude-sonnet-4-5` matches `claude-sonnet-4-5-20250929`); the longest key wins. Prices
 * change: a scenario's `prices` (passed as AgentDeps.prices) overrides any of them.
 */
export const BUILTIN_PRICES: PriceTable = {
  // Anthropic
  'claude-opus-4-5': { input: 5, output: 25, cacheRead: 0.5, cacheWrite: 6.25 },
  'claude-opus-4-1': { input: 15, output: 75, cacheRead: 1.5, cacheWrite: 18.75 },
  'claude-opus-4': { input: 15, output: 75, cacheRead: 1.5, cacheWrite: 18.75 },
  'claude-sonnet-4-5': { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 },
  'claude-sonnet-4': { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 },
  'claude-3-7-sonnet': { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 },
  'claude-3-5-sonnet': { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 },
  'claude-haiku-4-5': { input: 1, output: 5, cacheRead: 0.1, cacheWrite: 1.25 },
  'claude-3-5-haiku': { input: 0.8, output: 4, cacheRead: 0.08, cacheWrite: 1 },
  'claude-3-opus': { input: 15, output: 75, cacheRead: 1.5, cacheWrite: 18.75 },
  'claude-3-haiku': { input: 0.25, output: 1.25, cacheRead: 0.03, cacheWrite: 0.3 },
  // OpenAI chat
  'gpt-5': { input: 1.25, output: 10, cacheRead: 0.125 },
  'gpt-5-mini': { input: 0.25, output: 2, cacheRead: 0.025 },
  'gpt-5-nano': { input: 0.05, output: 0.4, cacheRead: 0.005 },
  'gpt-4.1': { input: 2, output: 8, cacheRead: 0.5 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6, cacheRead: 0.1 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4, cacheRead: 0.025 },
  'gpt-4o': { input: 2.5, output: 10, cacheRead: 1.25 },
  'gpt-4o-mini': { input: 0.15, output: 0.6, cacheRead: 0.075 },
  'gpt-4-turbo': { input: 10, output: 30 },
  'gpt-3.5-turbo': { input: 0.5, output: 1.5 },
  o1: { input: 15, output: 60, cacheRead: 7.5 },
  o3: { input: 2, output: 8, cacheRead: 0.5 },
  'o3-mini': { input: 1.1, output: 4.4, cacheRead: 0.55 },
  'o4-mini': { input: 1.1, output: 4.4, cacheRead: 0.275 },
  // OpenAI completions (base-model style)
  'gpt-3.5-turbo-instruct': { input: 1.5, output: 2 },
  'davinci-002': { input: 2, output: 2 },
  'babbage-002': { input: 0.4, output: 0.4 },
};

/**
 * The price of `model`: overrides first, then the built-in table; exact name, then the longest key
 * that the name starts with (followed by `-`, `:` or `@`, so `o3` does not price `o3x`).
 * Undefined for unknown models (local models, most compatible servers): their cost is not counted.
 */
export function priceFor(model: string, overrides?: PriceTable): Price | undefined {
  for (const table of [overrides, BUILTIN_PRICES]) {
    if (!table) continue;
    const exact = table[model];
    if (exact) return exact;
    let best: string | undefined;
    for (const key of Object.keys(table)) {
      if (model.startsWith(key) && /^[-:@]/.test(model.slice(key.length)) && (!best || key.length > best.length)) best = key;
    }
    if (best) return table[best];
  }
  return undefined;
}

/**
 * Cost in USD of `usage` at `price`. `inputTokens` counts every input token, cached ones included;
 * the cached parts are billed at their own rates.
 */
export function costOf(usage: Usage, price: Price | undefined): number {
  if (!price) return 0;
  const cacheRead = usage.cacheReadTokens ?? 0;
  const cacheWrite = usage.cacheWriteTokens ?? 0;
  const plainInput = Math.max(0, usage.inputTokens - cacheRead - cacheWrite);
  const usd =
    plainInput * price.input +
    cacheRead * (price.cacheRead ?? price.input) +
    cacheWrite * (price.cacheWrite ?? price.input) +
    usage.outputTokens * price.output;
  return usd / 1_000_000;
}

/** Sum of two usages; optional counters stay absent unless one side has them. */
export function addUsage(a: Usage, b: Usage): Usage {
  const out: Usage = { inputTokens: a.inputTokens + b.inputTokens, outputTokens: a.outputTokens + b.outputTokens };
  for (const k of ['cacheReadTokens', 'cacheWriteTokens', 'reasoningTokens'] as const) {
    if (a[k] !== undefined || b[k] !== undefined) out[k] = (a[k] ?? 0) + (b[k] ?? 0);
  }
  return out;
}
