import { basename } from 'node:path';
import { SkipFile, type ImportedTranscript } from './transcript.js';

/** A turn header: a whole line `### <speaker> ###`. */
const HEADER = /^###[ \t]+(.+?)[ \t]+###[ \t]*\r?$/gm;

/** What a `{lm1}_{lm2}_{template}_{timestamp}.txt` name says, when the name has that shape. */
export interface BackroomsName {
  lm1: string;
  lm2: string;
  template: string;
  timestamp: string;
  /** The timestamp as an ISO 8601 date, when it reads as one (see dateOfTimestamp). */
  date?: string;
}

/**
 * Split a backrooms file name. The timestamp is the trailing part made of digits (with - : . T), or
 * the last two parts when they are a date and a time written `YYYYMMDD_HHMMSS`; the template may itself
 * contain underscores. Returns undefined when the name does not fit.
 */
export function parseBackroomsName(file: string): BackroomsName | undefined {
  const stem = basename(file).replace(/\.txt$/i, '');
  const parts = stem.split('_');
  let tsParts = 0;
  if (parts.length >= 5 && /^\d{8}$/.test(parts.at(-2)!) && /^\d{6}$/.test(parts.at(-1)!)) tsParts = 2;
  else if (/^\d[\d\-:.T]*$/.test(parts.at(-1) ?? '')) tsParts = 1;
  if (tsParts === 0 || parts.length < 3 + tsParts) return undefined;
  const [lm1, lm2] = parts;
  const template = parts.slice(2, parts.length - tsParts).join('_');
  if (!lm1 || !lm2 || !template) return undefined;
  const timestamp = parts.slice(parts.length - tsParts).join('_');
  const date = dateOfTimestamp(timestamp);
  return { lm1, lm2, template, timestamp, ...(date ? { date } : {}) };
}

/**
 * The date a name's timestamp gives, as ISO 8601: `YYYYMMDD_HHMMSS` (or with - and :) as written, without a
 * zone since the name gives none; ten digits as Unix seconds, in UTC. Undefined for anything else, or a
 * date that does not exist.
 */
export function dateOfTimestamp(timestamp: string): string | undefined {
  if (/^\d{10}$/.test(timestamp)) return new Date(Number(timestamp) * 1000).toISOString().replace('.000Z', 'Z');
  const m = /^(\d{4})-?(\d{2})-?(\d{2})(?:[_T-]?(\d{2})[-:.]?(\d{2})[-:.]?(\d{2}))?$/.exec(timestamp);
  if (!m) return undefined;
  const [, y, mo, d, h = '00', mi = '00', sec = '00'] = m;
  const check = new Date(Date.UTC(+y!, +mo! - 1, +d!, +h, +mi, +sec));
  if (check.getUTCMonth() !== +mo! - 1 || check.getUTCDate() !== +d! || +h > 23 || +mi > 59 || +sec > 59) return undefined;
  return `${y}-${mo}-${d}T${h}:${mi}:${sec}`;
}

/**
 * A backrooms log: each turn starts with a line `### <speaker> ###` and runs to the next such line.
 * Text before the first header (a preamble some logs carry) is kept in `source.preamble`, not as a turn.
 * Blank lines around a turn are the log's separators, not the turn's text, and are dropped.
 */
export function parseBackrooms(text: string, path: string): ImportedTranscript {
  const headers = [...text.matchAll(HEADER)];
  if (headers.length === 0) throw new SkipFile('no "### <speaker> ###" turn headers');
  const turns: ImportedTranscript['turns'] = [];
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i]!;
    const start = h.index + h[0].length;
    const end = i + 1 < headers.length ? headers[i + 1]!.index : text.length;
    turns.push({ speaker: h[1]!, text: text.slice(start, end).replace(/^(?:[ \t]*\r?\n)+/, '').trimEnd() });
  }
  const name = parseBackroomsName(path);
  const models = new Map<string, string>();
  if (name) {
    const speakers = [...new Set(turns.map((t) => t.speaker))];
    // The name gives two models; they map onto the first two speakers in order of appearance.
    if (speakers[0] !== undefined) models.set(speakers[0], name.lm1);
    if (speakers[1] !== undefined) models.set(speakers[1], name.lm2);
  }
  const preamble = text.slice(0, headers[0]!.index).trim();
  return {
    turns,
    source: { format: 'backrooms', path, ...(name ?? {}), ...(preamble ? { preamble } : {}), endToken: turns.at(-1)!.text.includes('^C^C') },
    scenarioName: name ? `backrooms ${name.template}` : 'backrooms',
    models,
  };
}
