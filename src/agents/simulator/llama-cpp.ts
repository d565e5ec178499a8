import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Agent, FinishReason } from '../agent.js';
import type { AgentDeps } from '../agent.js';
import type { LlamaCppAgentSchema } from '../spec.js';
import { InputError } from '../../errors.js';
import { Channel } from '../remote/_channel.js';
import { timerSleep } from '../../clock.js';
import { redactor } from '../remote/redact.js';
import type { ProviderPart } from '../remote/remote-turn.js';
import { createSimulatorAgent } from './simulator-agent.js';

type Spec = z.infer<typeof LlamaCppAgentSchema>;
type Gpu = Spec['gpu'];

/** The few parts of node-llama-cpp (v3) we use; the package is optional, so we describe them here. */
interface LlamaCompletionLike {
  generateCompletionWithMeta(
    prompt: string,
    options: {
      signal?: AbortSignal;
      stopOnAbortSignal?: boolean;
      maxTokens?: number;
      temperature?: number;
      topK?: number;
      topP?: number;
      seed?: number;
      repeatPenalty?: { presencePenalty?: number; frequencyPenalty?: number };
      customStopTriggers?: string[];
      onTextChunk?: (text: string) => void;
    },
  ): Promise<{ response: string; metadata: { stopReason: string } }>;
  dispose(): void;
}
interface TokenMeterLike {
  getState(): { usedInputTokens: number; usedOutputTokens: number };
}
interface LlamaContextLike {
  getSequence(): { readonly tokenMeter: TokenMeterLike };
  dispose(): Promise<void>;
}
interface LlamaModelLike {
  createContext(options: { contextSize: number; threads?: number }): Promise<LlamaContextLike>;
  tokenize(text: string): readonly unknown[];
  readonly tokens: { readonly bos: unknown; readonly shouldPrependBosToken: boolean };
  dispose(): Promise<void>;
}
interface LlamaLike {
  loadModel(options: { modelPath: string }): Promise<LlamaModelLike>;
}
type LlamaLogLevel = 'disabled' | 'fatal' | 'error' | 'warn' | 'info' | 'log' | 'debug';
interface NodeLlamaCpp {
  getLlama(options: {
    gpu: Gpu;
    build: 'never';
    skipDownload: true;
    logLevel: LlamaLogLevel;
    logger: (level: LlamaLogLevel, message: string) => void;
  }): Promise<LlamaLike>;
  LlamaCompletion: new (options: { contextSequence: unknown }) => LlamaCompletionLike;
}

function isNodeLlamaCpp(mod: unknown): mod is NodeLlamaCpp {
  if (typeof mod !== 'object' || mod === null) return false;
  const m = mod as Record<string, unknown>;
  return typeof m.getLlama === 'function' && typeof m.LlamaCompletion === 'function';
}

/** Load the optional package; a missing one is a setup problem of the user, said in one line. */
export async function importNodeLlamaCpp(specifier = 'node-llama-cpp'): Promise<NodeLlamaCpp> {
  let mod: unknown;
  try {
    mod = await import(specifier);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new InputError(`backend 'llama-cpp' needs the optional package node-llama-cpp, which is not installed: run \`npm i node-llama-cpp\``, { cause: err });
    }
    throw new InputError(`backend 'llama-cpp': node-llama-cpp failed to load: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  if (!isNodeLlamaCpp(mod)) throw new InputError(`backend 'llama-cpp': node-llama-cpp does not export getLlama and LlamaCompletion (version 3 is needed)`);
  return mod;
}

/**
 * A missing file, a folder or anything else than a GGUF model is the user's to fix, before the run
 * starts. The header's counts are checked against the file's size too: a header cut short or overwritten
 * makes node-llama-cpp's own reader take its garbage counts at face value and allocate without end.
 */
function checkGguf(spec: Spec, modelPath: string): void {
  const problem = (what: string) => new InputError(`agent '${spec.id}' (llama-cpp): ${what}`);
  const unreadable = (err: unknown) => {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return problem(`no GGUF file at ${modelPath}`);
    if (code === 'EISDIR') return problem(`${modelPath} is a folder, not a GGUF file`);
    return problem(`cannot read ${modelPath} (${code ?? (err as Error).message})`);
  };
  let fd: number;
  try {
    fd = openSync(modelPath, 'r');
  } catch (err) {
    throw unreadable(err);
  }
  try {
    const head = Buffer.alloc(24);
    let n: number;
    let size: number;
    try {
      n = readSync(fd, head, 0, head.length, 0);
      size = fstatSync(fd).size;
    } catch (err) {
      throw unreadable(err);
    }
    if (n < 4 || head.toString('latin1', 0, 4) !== 'GGUF') throw problem(`${modelPath} is not a GGUF file (it does not begin with "GGUF")`);
    if (n < 24) throw problem(`${modelPath} is cut short (${size} bytes, not even a GGUF header)`);
    const version = head.readUInt32LE(4);
    if (version !== 2 && version !== 3) throw problem(`${modelPath} is GGUF version ${version}; llama.cpp reads versions 2 and 3`);
    // Smallest possible entries: a tensor info of 33 bytes (1-byte name, one dimension), a metadata pair of 14.
    const tensors = head.readBigUInt64LE(8);
    const pairs = head.readBigUInt64LE(16);
    if (24n + tensors * 33n + pairs * 14n > BigInt(size)) {
      throw problem(`${modelPath} has a corrupt or cut-short GGUF header (${tensors} tensors and ${pairs} metadata entries cannot fit in ${size} bytes)`);
    }
  } finally {
    closeSync(fd);
  }
}

// llama.cpp's backend is loaded once per process, so the Llama instances (one per GPU setting) and the
// models loaded from them are kept here rather than per run: two agents on the same file share its
// weights, and each keeps only its own context (KV cache). A model is freed when its last agent closes.
const llamas = new Map<string, Promise<{ llama: LlamaLike; errors: ErrorLines }>>();
const models = new Map<string, { model: Promise<LlamaModelLike>; users: number }>();

/** llama.cpp's latest error-level log lines: why a model failed to load is said there, not in the exception. */
interface ErrorLines {
  count: number;
  recent: string[];
}

const LOG_METHOD = { fatal: 'fatal', error: 'error', warn: 'warn', info: 'debug', log: 'debug', debug: 'trace' } as const;

function llamaFor(llamaCpp: NodeLlamaCpp, gpu: Gpu, logger: Logger): Promise<{ llama: LlamaLike; errors: ErrorLines }> {
  const key = String(gpu);
  let entry = llamas.get(key);
  if (!entry) {
    const errors: ErrorLines = { count: 0, recent: [] };
    // build 'never' + skipDownload: use the prebuilt binary the package ships, never compile or fetch one.
    const created = llamaCpp
      .getLlama({
        gpu,
        build: 'never',
        skipDownload: true,
        logLevel: 'warn',
        logger: (level, message) => {
          if (level === 'disabled') return;
          const line = message.trimEnd();
          logger[LOG_METHOD[level]]({ llamaCpp: level }, line);
          if (level === 'error' || level === 'fatal') {
            errors.count++;
            errors.recent = [...errors.recent.slice(-9), line];
          }
        },
      })
      .then((llama) => ({ llama, errors }));
    entry = created;
    llamas.set(key, created);
    created.catch(() => llamas.delete(key));
  }
  return entry;
}

async function loadModel(llamaCpp: NodeLlamaCpp, gpu: Gpu, modelPath: string, logger: Logger): Promise<LlamaModelLike> {
  const { llama, errors } = await llamaFor(llamaCpp, gpu, logger);
  const before = errors.count;
  try {
    return await llama.loadModel({ modelPath });
  } catch (err) {
    // The log lines come through a native callback; let those already queued arrive first.
    await new Promise((r) => setImmediate(r));
    const fresh = errors.recent.slice(-Math.min(errors.count - before, errors.recent.length));
    const reason = fresh[0]?.replace(/^\w+: /u, '') ?? (err instanceof Error ? err.message : String(err));
    throw new Error(`llama.cpp could not load ${modelPath}: ${reason}`, { cause: err });
  }
}

function acquireModel(llamaCpp: NodeLlamaCpp, gpu: Gpu, modelPath: string, logger: Logger): { model: Promise<LlamaModelLike>; release: () => Promise<void> } {
  const key = `${String(gpu)}\0${modelPath}`;
  let entry = models.get(key);
  if (!entry) {
    const model = loadModel(llamaCpp, gpu, modelPath, logger);
    const created = { model, users: 0 };
    entry = created;
    models.set(key, created);
    model.catch(() => {
      if (models.get(key) === created) models.delete(key);
    });
  }
  entry.users++;
  const held = entry;
  let released = false;
  return {
    model: held.model,
    release: async () => {
      if (released) return;
      released = true;
      if (--held.users > 0) return;
      if (models.get(key) === held) models.delete(key);
      const model = await held.model.catch(() => undefined);
      await model?.dispose();
    },
  };
}

function reasonOf(stop: string): FinishReason {
  if (stop === 'maxTokens') return 'length';
  if (stop === 'customStopTrigger' || stop === 'stopGenerationTrigger') return 'stop_sequence';
  if (stop === 'eogToken' || stop === 'eosToken') return 'stop';
  return 'other';
}

/**
 * A GGUF base model run in this process by node-llama-cpp (optional dependency), on its prebuilt
 * binaries. The model is loaded on the first turn; turns run one at a time on the agent's own context
 * sequence, which reuses the evaluated prefix of the previous document. Usage is the engine's: the
 * prompt as its tokenizer splits it, and the tokens it generated (stop tags included).
 */
export async function createLlamaCppAgent(spec: Spec, deps: AgentDeps): Promise<Agent> {
  const modelPath = resolve(deps.scenarioDir, spec.modelPath);
  checkGguf(spec, modelPath);
  const llamaCpp = await importNodeLlamaCpp();
  const logger = deps.logger.child({ agentId: spec.id, backend: 'llama-cpp', model: spec.model });
  const contextSize = spec.contextWindow ?? 4096;
  type Loaded = { model: LlamaModelLike; context: LlamaContextLike; sequence: ReturnType<LlamaContextLike['getSequence']> };
  let session: { release: () => Promise<void>; ready: Promise<Loaded> } | undefined;
  const open = (): Promise<Loaded> => {
    if (!session) {
      const { model, release } = acquireModel(llamaCpp, spec.gpu, modelPath, deps.logger.child({ backend: 'llama-cpp' }));
      const ready = model.then(async (m) => {
        const context = await m.createContext({ contextSize, ...(spec.threads !== undefined ? { threads: spec.threads } : {}) });
        return { model: m, context, sequence: context.getSequence() };
      });
      session = { release, ready };
    }
    return session.ready;
  };
  let queue: Promise<unknown> = Promise.resolve();

  return createSimulatorAgent(
    spec,
    {
      turnConfig: (options) => ({
        agentId: spec.id,
        turn: options.turn,
        label: `agent '${spec.id}' (llama-cpp ${spec.modelPath})`,
        maxRetries: spec.maxRetries,
        timeoutMs: spec.timeoutMs,
        sdkRetries: false,
        http: false,
        fetch: globalThis.fetch,
        sleep: deps.sleep ?? timerSleep,
        price: undefined,
        redact: redactor([]),
        logger,
        signal: options.signal,
      }),
      async *complete(req, ctx) {
        const ch = new Channel<ProviderPart>();
        const s = req.sampling;
        // One sequence: turns wait for each other.
        const run = queue.then(async () => {
          let completion: LlamaCompletionLike | undefined;
          try {
            const { model, sequence: seq } = await open();
            if (ctx.signal.aborted) throw ctx.signal.reason;
            const inputTokens = model.tokenize(req.prompt).length + (model.tokens.shouldPrependBosToken && model.tokens.bos != null ? 1 : 0);
            const before = seq.tokenMeter.getState().usedOutputTokens;
            const usage = () => ({ type: 'usage' as const, usage: { inputTokens, outputTokens: seq.tokenMeter.getState().usedOutputTokens - before } });
            const penalties = {
              ...(s.presencePenalty !== undefined ? { presencePenalty: s.presencePenalty } : {}),
              ...(s.frequencyPenalty !== undefined ? { frequencyPenalty: s.frequencyPenalty } : {}),
            };
            completion = new llamaCpp.LlamaCompletion({ contextSequence: seq });
            const r = await completion.generateCompletionWithMeta(req.prompt, {
              signal: ctx.signal,
              stopOnAbortSignal: true,
              ...(s.maxTokens !== undefined ? { maxTokens: s.maxTokens } : {}),
              ...(s.temperature !== undefined ? { temperature: s.temperature } : {}),
              ...(s.topK !== undefined ? { topK: s.topK } : {}),
              ...(s.topP !== undefined ? { topP: s.topP } : {}),
              ...(s.seed !== undefined ? { seed: s.seed + req.retry } : {}),
              ...(Object.keys(penalties).length > 0 ? { repeatPenalty: penalties } : {}),
              customStopTriggers: [...req.stops],
              // Counts first: should our side cut the text at a stop, the turn still has the engine's figures.
              onTextChunk: (text) => {
                ch.push(usage());
                ch.push({ type: 'text', text });
              },
            });
            ch.push(usage());
            ch.push({ type: 'done', reason: reasonOf(r.metadata.stopReason) });
            ch.close();
          } catch (err) {
            ch.fail(err);
          } finally {
            completion?.dispose();
          }
        });
        queue = run.catch(() => undefined);
        yield* ch;
      },
      async close() {
        if (!session) return;
        const { ready, release } = session;
        await ready.then(({ context }) => context.dispose()).catch(() => undefined);
        await release();
      },
    },
    logger,
  );
}
