import { z } from 'zod';

/** Options every scripted generator shares: how its text is streamed. */
const streaming = {
  /** Milliseconds between streamed chunks (a model-like pace); 0 streams as fast as possible. */
  chunkDelayMs: z.number().nonnegative().optional(),
  /** Words per streamed chunk: default 2 with a delay, the whole turn in one chunk without. */
  chunkWords: z.number().int().positive().optional(),
};

export const ScriptGeneratorSchema = z.strictObject({
  kind: z.literal('script'),
  /** The agent's turns in order; its k-th turn says lines[k]. */
  lines: z.array(z.string()).min(1),
  /** After the last line: start again (true) or end the turn empty (false). */
  loop: z.boolean().default(false),
  ...streaming,
});

export const CycleGeneratorSchema = z.strictObject({
  kind: z.literal('cycle'),
  /** Templates with {turn}, {name}, {other}, {last} (the previous speaker's text) placeholders. */
  templates: z.array(z.string()).min(1),
  order: z.enum(['cycle', 'random']).default('cycle'),
  ...streaming,
});

export const EchoGeneratorSchema = z.strictObject({
  kind: z.literal('echo'),
  /** echo repeats the previous turn; mirror reflects it (I ↔ you, my ↔ your). */
  mode: z.enum(['echo', 'mirror']).default('echo'),
  prefix: z.string().default(''),
  /** What to say when there is nothing to echo yet. */
  opening: z.string().default('Hello.'),
  ...streaming,
});

export const MarkovGeneratorSchema = z
  .strictObject({
    kind: z.literal('markov'),
    /** Text file to train on, relative to the scenario file. */
    corpusFile: z.string().optional(),
    /** Inline training text, instead of a file. */
    corpus: z.string().optional(),
    order: z.number().int().min(1).max(4).default(2),
    minWords: z.number().int().positive().default(12),
    maxWords: z.number().int().positive().default(40),
    ...streaming,
  })
  .refine((g) => (g.corpusFile === undefined) !== (g.corpus === undefined), {
    message: 'give exactly one of corpusFile or corpus',
  })
  .refine((g) => g.minWords <= g.maxWords, { message: 'minWords must not exceed maxWords', path: ['minWords'] });

const vocabulary = z.union([z.string(), z.array(z.string()).min(1)]);

export const DriftGeneratorSchema = z
  .strictObject({
    kind: z.literal('drift'),
    /** Vocabulary at the start: a built-in name (see VOCABULARIES) or a list of sentences/phrases. */
    from: vocabulary,
    /** Vocabulary it drifts into. */
    to: vocabulary,
    /** Conversation turn at which the drift starts. */
    onsetTurn: z.number().int().positive(),
    /** Turns over which the share of the `to` vocabulary rises from 0 to 1. */
    rampTurns: z.number().int().nonnegative().default(4),
    /** Sentences per turn, before and after the drift (lengths may shrink as conversations do). */
    sentences: z.tuple([z.number().int().positive(), z.number().int().positive()]).default([3, 2]),
    ...streaming,
  });

export const ReplayGeneratorSchema = z.strictObject({
  kind: z.literal('replay'),
  /** A run folder or events.jsonl file, relative to the scenario file. */
  run: z.string(),
  /** Whose turns to replay; defaults to the agent's own id. */
  agent: z.string().optional(),
  ...streaming,
});

export const GeneratorSchema = z.discriminatedUnion('kind', [
  ScriptGeneratorSchema,
  CycleGeneratorSchema,
  EchoGeneratorSchema,
  MarkovGeneratorSchema,
  DriftGeneratorSchema,
  ReplayGeneratorSchema,
]);
export type GeneratorSpec = z.infer<typeof GeneratorSchema>;
