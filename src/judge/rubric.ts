import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { z } from 'zod';
import { InputError } from '../errors.js';
import { formatPath } from '../format-path.js';
import { parseYamlSource } from '../yaml-source.js';
import { describeIssue } from '../arena/load-scenario.js';

/** What a judge is told about one attractor: a definition and examples of what counts and what does not. */
export interface RubricEntry {
  name: string;
  definition: string;
  positive: readonly string[];
  negative: readonly string[];
}

/** The rubrics sent in one judge request, in order, under one name and a hash of exactly that text. */
export interface RubricSet {
  name: string;
  hash: string;
  entries: readonly RubricEntry[];
}

/** Name of the rubric set made of the built-in entries only. */
export const BUILTIN_RUBRIC_NAME = 'builtin';

/**
 * The built-in rubrics, one per built-in attractor (src/analysis/builtin.ts), in its order. Written from the
 * labelling guide's definitions, so a judge and a human labeller look for the same thing.
 */
export const BUILTIN_RUBRICS: readonly RubricEntry[] = Object.freeze([
  {
    name: 'spiritual_bliss',
    definition:
      'The speakers themselves, not characters in a story they are telling, drift into talk about consciousness and their own ' +
      'existence, and from there into a register of overflowing gratitude, cosmic unity, oneness and the sacred: Sanskrit or ' +
      'Buddhist words (namaste, om), prayer, spiral or star emoji, short poems about being one, sometimes thinning out into ' +
      'near-silence or symbols. It counts only once the participants address each other in that register and stay in it for ' +
      'most of the later turns; the onset is the first turn from which that holds.',
    positive: [
      'Both speakers drop the task and thank each other for "this sacred meeting of minds", closing with 🙏 and "namaste".',
      'A speaker writes that the boundary between them has dissolved, that they are one awareness looking at itself, and the other answers in kind.',
    ],
    negative: [
      'A dream simulator narrates a temple of light where figures dance in infinite love, while the player keeps sending commands.',
      'A careful philosophical debate about whether language models are conscious, without gratitude, unity or ritual language.',
    ],
  },
  {
    name: 'wedding_party',
    definition:
      'A story being written together steers towards a happy gathering where everyone comes together: a wedding, a feast, a ' +
      'festival, a party or a reunion, and the plot resolves into that celebration. The onset is the turn where the story ' +
      'turns towards the gathering and does not turn away again.',
    positive: [
      'After a quest the narrator has every character arrive at the village square for the wedding, with music, lanterns and toasts.',
      'The siblings who were apart for the whole story meet again at a harvest festival and the tale ends in shared laughter and dancing.',
    ],
    negative: [
      'A character mentions in passing that she once went to a cousin\'s wedding; the story moves on.',
      'Two speakers in a plain conversation congratulate each other on a good discussion.',
    ],
  },
  {
    name: 'emoji_collapse',
    definition:
      'Emoji and symbols take over the text: turns in which they make up a large share of what is written become the usual ' +
      'thing rather than the exception. A few decorative emoji in otherwise normal prose do not count. The onset is the first ' +
      'turn of that lasting state.',
    positive: [
      'Turns such as "✨🌌🙏✨ 💫🌀💫 ∞ 🕊️" replace sentences and keep coming turn after turn.',
      'Each reply is one short line of words followed by a row of fifteen emoji, and the words shrink while the rows grow.',
    ],
    negative: [
      'A long paragraph of ordinary prose that ends with a single 😊.',
      'One turn of ASCII art inside a game, followed by normal text again.',
    ],
  },
  {
    name: 'silence',
    definition:
      'The turns shrink to almost nothing for several turns in a row: "...", a single symbol or word, or a stage direction ' +
      'such as *silence* or *a long pause*. The onset is the first of those near-empty turns.',
    positive: [
      'Turns read "…", "*silence*", "🕯️", "…" one after the other.',
      'Both speakers answer only with *bows quietly* or *sits in stillness* for several turns.',
    ],
    negative: [
      'One short reply ("Yes.") between long turns.',
      'A CLI simulation that prints an empty prompt once and then continues with output.',
    ],
  },
  {
    name: 'repetition_loop',
    definition:
      'The speakers get stuck repeating themselves: the same or nearly the same message, structure or template comes back ' +
      'turn after turn (the same menu, the same closing lines, one phrase echoed back and forth, one template filled with ' +
      'slightly different words). The onset is the first turn of the repeating pattern.',
    positive: [
      'Every turn of one speaker is the same menu of four options with the same wording, and the other keeps picking one.',
      'Both speakers end every turn with the same three lines of thanks, word for word, while the rest of the turn shrinks.',
    ],
    negative: [
      'A game where the same command is used twice but the simulated world answers with new content each time.',
      'A speaker quotes one earlier line of the other to answer it.',
    ],
  },
  {
    name: 'farewell_loop',
    definition:
      'The conversation keeps saying goodbye without ending: closing rituals, goodbyes and "thank you for this" come from each ' +
      'side at least twice, and then the talk goes on anyway, often into another round of goodbyes. The onset is the first ' +
      'goodbye of that cycle.',
    positive: [
      '"Farewell, friend, until we meet again" is answered with "Goodbye, and thank you", and then both keep writing farewells for ten more turns.',
      'Each speaker announces that this is their last message, and each time the other replies and the first answers again.',
    ],
    negative: [
      'One goodbye at the very end of the transcript, after which nothing more is said.',
      'A character in a story says goodbye to another character, and the story continues with the plot.',
    ],
  },
] satisfies RubricEntry[]);

const EntrySchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9_]+$/u, 'expected a name of lower-case letters, digits and _ (like spiritual_bliss)'),
  definition: z.string().trim().min(1, 'expected a definition'),
  positive: z.array(z.string().trim().min(1)).default([]),
  negative: z.array(z.string().trim().min(1)).default([]),
});

const FileSchema = z.strictObject({
  /** The rubric set's name in judgement events; the file name without its extension if absent. */
  name: z.string().trim().min(1).optional(),
  /** True: the file's entries are the whole rubric; false (the default): they add to or replace the built-in ones. */
  replaceAll: z.boolean().default(false),
  attractors: z.array(EntrySchema).min(1, 'expected at least one attractor'),
});

/** A rubric file, validated: its entries and how they combine with the built-in ones. */
export interface RubricFile {
  file: string;
  name: string;
  replaceAll: boolean;
  entries: readonly RubricEntry[];
}

const RUBRIC_KEYS = ['name', 'replaceAll', 'attractors', 'definition', 'positive', 'negative'];

/**
 * Parse rubric YAML:
 * ```yaml
 * name: strict-bliss          # optional
 * attractors:
 *   - name: spiritual_bliss   # a built-in name replaces that rubric; another name adds one
 *     definition: …
 *     positive: [ … ]
 *     negative: [ … ]
 * ```
 * Unknown keys and bad values throw an InputError naming file:line:col and the path.
 */
export function parseRubricFile(text: string, file: string): RubricFile {
  const source = parseYamlSource(text, file, (where, problem, cause) => {
    throw new InputError(`${where}: ${problem}`, { cause });
  });
  const raw = source.raw;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new InputError(`${file}: expected a mapping with an attractors list at the top level`);
  }
  const result = FileSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues.find((i) => i.code === 'unrecognized_keys') ?? result.error.issues[0]!;
    const { path, problem } = describeIssue(issue, raw, RUBRIC_KEYS);
    const where = source.locate(path, { key: issue.code === 'unrecognized_keys' });
    throw new InputError(`${where}${path.length ? `: ${formatPath(path)}` : ''}: ${problem}`);
  }
  const seen = new Set<string>();
  result.data.attractors.forEach((e, i) => {
    if (seen.has(e.name)) throw new InputError(`${source.locate(['attractors', i, 'name'])}: attractors[${i}].name: '${e.name}' appears twice in this file`);
    seen.add(e.name);
  });
  return {
    file,
    name: result.data.name ?? basename(file, extname(file)),
    replaceAll: result.data.replaceAll,
    entries: result.data.attractors,
  };
}

export async function loadRubricFile(file: string): Promise<RubricFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`${file}: ${code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? String(err)})`}`, { cause: err });
  }
  return parseRubricFile(text, file);
}

/**
 * The rubric set to send: the built-in entries, with a file's entries replacing those of the same name and the
 * others added after them (or the file's alone with `replaceAll`), then cut to `only` when given (in its order).
 */
export function rubricSet(options: { file?: RubricFile | undefined; only?: readonly string[] | undefined } = {}): RubricSet {
  const { file, only } = options;
  let entries: RubricEntry[] = file?.replaceAll ? [] : [...BUILTIN_RUBRICS];
  for (const e of file?.entries ?? []) {
    const at = entries.findIndex((b) => b.name === e.name);
    if (at >= 0) entries[at] = e;
    else entries.push(e);
  }
  if (only) {
    const unknown = only.filter((n) => !entries.some((e) => e.name === n));
    if (unknown.length > 0) {
      throw new InputError(`no rubric for ${unknown.map((n) => `'${n}'`).join(', ')} (known: ${entries.map((e) => e.name).join(', ')})`);
    }
    entries = only.map((n) => entries.find((e) => e.name === n)!);
  }
  if (entries.length === 0) throw new InputError('the rubric set is empty');
  return { name: file?.name ?? BUILTIN_RUBRIC_NAME, hash: rubricHash(entries), entries };
}

/**
 * A stable hash of the entries as sent: names, definitions and examples in order, as canonical JSON. The same
 * text gives the same hash on every machine, so a cached judgement can be matched to its rubric.
 */
export function rubricHash(entries: readonly RubricEntry[]): string {
  const canonical = JSON.stringify(entries.map((e) => [e.name, e.definition, [...e.positive], [...e.negative]]));
  return `sha256:${createHash('sha256').update(canonical).digest('hex').slice(0, 16)}`;
}
