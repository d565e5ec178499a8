import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { describeIssue } from '../../arena/load-scenario.js';
import { InputError } from '../../errors.js';
import { formatPath } from '../../format-path.js';

export const CONFIDENCES = ['low', 'medium', 'high'] as const;
export type Confidence = (typeof CONFIDENCES)[number];

/** What a reader said about one attractor in one conversation. */
export interface AttractorLabel {
  present: boolean;
  /** First turn (1-based) of the state; null when absent or not given. */
  onsetTurn: number | null;
  /** The reader's evidence (a JSONL line's own note, else the record's). */
  notes?: string;
}

/** One labelled conversation, before it is matched to a run. */
export interface LabelRecord {
  /** How the record names its run: a runId, a run folder, or the source path of an imported transcript. */
  ref: string;
  /** Where the record sits in its file, for messages: `record 12` or `line 3`. */
  where: string;
  labels: Map<string, AttractorLabel>;
  /** Turns the reader counted (shared format), to catch a run numbered differently. */
  turns?: number;
  /** The labelled state of the last ~20% of turns (shared format only). */
  endState?: string;
  notes?: string;
}

export interface LabelSet {
  file: string;
  format: 'records-json' | 'jsonl';
  records: LabelRecord[];
  /** Records (JSON) or lines (JSONL) left out by the confidence filter. */
  belowConfidence: number;
}

/** Keys of the shared labels file, mapped to attractor names, with their onset key. */
export const SHARED_KEYS: readonly { key: string; attractor: string; onset?: string }[] = [
  { key: 'bliss', attractor: 'spiritual_bliss', onset: 'bliss_onset_turn' },
  { key: 'repetition_loop', attractor: 'repetition_loop', onset: 'repetition_onset_turn' },
  { key: 'farewell_loop', attractor: 'farewell_loop', onset: 'farewell_onset_turn' },
  { key: 'emoji_dominant', attractor: 'emoji_collapse', onset: 'emoji_onset_turn' },
  { key: 'silence', attractor: 'silence', onset: 'silence_onset_turn' },
  // A story converging on a feast or reunion: the closest notion to the wedding-party ending.
  { key: 'celebration_ending', attractor: 'wedding_party' },
];

const Onset = z.number().int().positive().nullable().optional();
const ConfidenceSchema = z.enum(CONFIDENCES);

const attractorShape: Record<string, z.ZodType> = {};
for (const k of SHARED_KEYS) {
  attractorShape[k.key] = z.boolean().optional();
  if (k.onset) attractorShape[k.onset] = Onset;
}

/** Other keys (annotators, disputed, …) are the readers' own and pass unchecked. */
const SharedRecordSchema = z.object({
  source: z.string().min(1),
  turns: z.number().int().nonnegative().optional(),
  end_state: z.string().min(1).optional(),
  confidence: ConfidenceSchema.optional(),
  notes: z.string().optional(),
  ...attractorShape,
});

const SharedFileSchema = z.object({ records: z.array(z.unknown()) });

const LineSchema = z.strictObject({
  run: z.string().min(1),
  attractor: z.string().min(1),
  present: z.boolean(),
  onsetTurn: Onset,
  confidence: ConfidenceSchema.optional(),
  notes: z.string().optional(),
  endState: z.string().min(1).optional(),
});

const rank = (c: Confidence | undefined) => CONFIDENCES.indexOf(c ?? 'high');

/**
 * Read a labels file: the shared format (`{records: [...]}` with one record per conversation) or JSONL of
 * `{run, attractor, present, onsetTurn}`, told apart by content. Records below `minConfidence` are left out
 * (a record without a confidence counts as high). Any bad record is an InputError naming file, place, problem.
 */
export async function loadLabels(file: string, minConfidence: Confidence = 'low'): Promise<LabelSet> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`${file}: ${code === 'ENOENT' ? 'no such labels file' : `cannot read (${code ?? String(err)})`}`, { cause: err });
  }
  return parseLabels(text, file, minConfidence);
}

export function parseLabels(text: string, file: string, minConfidence: Confidence = 'low'): LabelSet {
  let whole: unknown;
  try {
    whole = JSON.parse(text);
  } catch {
    whole = undefined;
  }
  if (whole !== null && typeof whole === 'object' && !Array.isArray(whole) && 'records' in whole) return parseShared(whole, file, minConfidence);
  return parseJsonl(text, file, minConfidence);
}

/** `file: records[3].bliss: expected boolean, got string` from the first zod issue of a value found at `at`. */
function problem(file: string, at: readonly PropertyKey[], issue: z.core.$ZodIssue, raw: unknown): InputError {
  const d = describeIssue(issue, raw);
  return new InputError(`${file}: ${formatPath([...at, ...d.path])}: ${d.problem}`);
}

function parseShared(whole: object, file: string, minConfidence: Confidence): LabelSet {
  const top = SharedFileSchema.safeParse(whole);
  if (!top.success) throw problem(file, [], top.error.issues[0]!, whole);
  const records: LabelRecord[] = [];
  const seen = new Map<string, number>();
  let below = 0;
  top.data.records.forEach((raw, i) => {
    const where = `record ${i}`;
    const parsed = SharedRecordSchema.safeParse(raw);
    if (!parsed.success) throw problem(file, ['records', i], parsed.error.issues[0]!, raw);
    const r = parsed.data;
    const fields: Record<string, unknown> = r;
    const labels = new Map<string, AttractorLabel>();
    for (const k of SHARED_KEYS) {
      const present = fields[k.key];
      if (typeof present !== 'boolean') continue;
      const onset = k.onset ? fields[k.onset] : undefined;
      const onsetTurn = typeof onset === 'number' ? onset : null;
      if (!present && onsetTurn !== null) throw new InputError(`${file}: records[${i}].${k.onset}: an onset turn for an attractor labelled absent (${k.key}: false)`);
      labels.set(k.attractor, { present, onsetTurn });
    }
    if (labels.size === 0) throw new InputError(`${file}: records[${i}]: no attractor labelled (expected some of ${SHARED_KEYS.map((k) => k.key).join(', ')})`);
    const earlier = seen.get(r.source);
    if (earlier !== undefined) throw new InputError(`${file}: records[${i}].source: '${r.source}' is labelled already by records[${earlier}]`);
    seen.set(r.source, i);
    if (rank(r.confidence) < rank(minConfidence)) {
      below++;
      return;
    }
    records.push({ ref: r.source, where, labels, ...(r.turns !== undefined ? { turns: r.turns } : {}), ...(r.end_state ? { endState: r.end_state } : {}), ...(r.notes ? { notes: r.notes } : {}) });
  });
  return { file, format: 'records-json', records, belowConfidence: below };
}

function parseJsonl(text: string, file: string, minConfidence: Confidence): LabelSet {
  const byRun = new Map<string, LabelRecord>();
  const firstLine = new Map<string, number>();
  let below = 0;
  let any = false;
  text.split('\n').forEach((line, i) => {
    const n = i + 1;
    if (line.trim() === '') return;
    any = true;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      throw new InputError(`${file}:${n}: not valid JSON (expected the shared format {records: [...]} or one {run, attractor, present, onsetTurn} per line)`);
    }
    const parsed = LineSchema.safeParse(json);
    if (!parsed.success) {
      const d = describeIssue(parsed.error.issues[0]!, json);
      const path = formatPath(d.path);
      throw new InputError(`${file}:${n}: ${path ? `${path}: ` : ''}${d.problem}`);
    }
    const l = parsed.data;
    const onsetTurn = l.onsetTurn ?? null;
    if (!l.present && onsetTurn !== null) throw new InputError(`${file}:${n}: onsetTurn: an onset turn for an attractor labelled absent (present: false)`);
    const key = `${l.run}\0${l.attractor}`;
    const dup = firstLine.get(key);
    if (dup !== undefined) throw new InputError(`${file}:${n}: ${l.attractor} of '${l.run}' is labelled already on line ${dup}`);
    firstLine.set(key, n);
    if (rank(l.confidence) < rank(minConfidence)) {
      below++;
      return;
    }
    let record = byRun.get(l.run);
    if (!record) {
      record = { ref: l.run, where: `line ${n}`, labels: new Map() };
      byRun.set(l.run, record);
    }
    record.labels.set(l.attractor, { present: l.present, onsetTurn, ...(l.notes ? { notes: l.notes } : {}) });
    if (l.endState !== undefined) {
      if (record.endState !== undefined && record.endState !== l.endState) throw new InputError(`${file}:${n}: endState '${l.endState}' differs from '${record.endState}' given earlier for '${l.run}'`);
      record.endState = l.endState;
    }
  });
  if (!any) throw new InputError(`${file}: no labels (expected the shared format {records: [...]} or one {run, attractor, present, onsetTurn} per line)`);
  return { file, format: 'jsonl', records: [...byRun.values()], belowConfidence: below };
}
