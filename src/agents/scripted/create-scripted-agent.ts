import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { z } from 'zod';
import type { Agent, AgentDeps, AgentStreamPart } from '../agent.js';
import type { ScriptedAgentSchema } from '../spec.js';
import { InputError } from '../../errors.js';
import { runLogPath } from '../../runlog/layout.js';
import { readRunLog } from '../../runlog/reader.js';
import type { TextGenerator } from './_generator.js';
import { createRng, hashSeed } from '../../seeded-random.js';
import { timerSleep } from '../../clock.js';
import { streamText } from '../stream-text.js';
import { generatedTurns, openingLines } from '../openings.js';
import { scriptGenerator } from './script.js';
import { cycleGenerator } from './cycle.js';
import { echoGenerator } from './echo.js';
import { markovGenerator } from './markov.js';
import { driftGenerator } from './drift.js';
import { replayGenerator } from './replay.js';

type ScriptedSpec = z.infer<typeof ScriptedAgentSchema>;

async function buildGenerator(spec: ScriptedSpec, deps: AgentDeps): Promise<TextGenerator> {
  const g = spec.generator;
  const where = `agent '${spec.id}' (${g.kind} generator)`;
  try {
    switch (g.kind) {
      case 'script':
        return scriptGenerator(g);
      case 'cycle':
        return cycleGenerator(g);
      case 'echo':
        return echoGenerator(g);
      case 'markov': {
        const corpus = g.corpus ?? (await readFile(resolve(deps.scenarioDir, g.corpusFile!), 'utf8'));
        return markovGenerator(g, corpus);
      }
      case 'drift':
        return driftGenerator(g);
      case 'replay': {
        const log = await readRunLog(await runLogPath(resolve(deps.scenarioDir, g.run)));
        return replayGenerator(g, log.events, spec.id);
      }
      default: {
        const never: never = g;
        throw new Error(`unknown generator ${JSON.stringify(never)}`);
      }
    }
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`${where}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/** A scripted agent: an async generator that computes its turn and streams it in chunks like a model. */
export async function createScriptedAgent(spec: ScriptedSpec, deps: AgentDeps): Promise<Agent> {
  const generate = await buildGenerator(spec, deps);
  const openings = openingLines(spec.opening).length;
  const delayMs = spec.generator.chunkDelayMs ?? 0;
  // Without a delay the chunks would all arrive in the same instant: stream the turn as one, which spares
  // an instant agent a dozen async steps per turn. With a delay, two words a chunk unless told otherwise.
  const words = spec.generator.chunkWords ?? (delayMs > 0 ? 2 : Infinity);
  const sleep = deps.sleep ?? timerSleep;
  return {
    id: spec.id,
    name: spec.name ?? spec.id,
    backend: 'scripted',
    model: spec.generator.kind,
    async *stream(options): AsyncGenerator<AgentStreamPart> {
      const rng = createRng(hashSeed(options.seed, spec.id, options.turn));
      const { text, reason } = generate({
        transcript: options.transcript,
        self: options.self,
        participants: options.participants,
        turn: options.turn,
        ownIndex: generatedTurns(options.transcript, options.self.id, openings),
        rng,
      });
      yield* streamText(text, { delayMs, words, sleep, signal: options.signal, reason });
    },
  };
}
