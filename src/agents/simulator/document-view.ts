import type { AgentStreamOptions, TranscriptEntry } from '../agent.js';
import type { TrimReport } from '../chat-view.js';
import { estimateTokens } from '../_tokens.js';
import { fill, speakerTag, turnSuffix, type DocumentTemplate } from './templates.js';

export interface DocumentViewOptions {
  template: DocumentTemplate;
  /** Character sheets (or the premise, in narrator mode) for the header. */
  personas: readonly { name: string; text: string }[];
  contextWindow?: number;
  /** Tokens kept free for the continuation. */
  reservedTokens: number;
  /** The start of the turn, written after the speaker's tag; the model continues it. */
  prefill?: string;
}

export interface DocumentView {
  /** The document, ending with the tag that opens `self`'s turn (and the prefill, if any). */
  prompt: string;
  /** Where `self`'s turn is over: any speaker's tag at the start of a line, the turn format's closing part. */
  stops: string[];
  trimmed?: TrimReport;
  estimatedTokens: number;
}

function renderEntry(template: DocumentTemplate, e: TranscriptEntry): string {
  if (e.kind !== 'turn' || e.speakerId === 'narrator') return fill(template.narration, e.speaker, e.text);
  return fill(template.turn, e.speaker, e.text);
}

/**
 * The conversation as a document a base model continues: header, every entry in the template's
 * format, then the tag of the participant who is to speak. The continuation is that participant's
 * turn up to the first stop: another tag at the start of a line (or its own, which would be a new
 * turn), or the text after {text} in the turn format. Trimming drops the oldest entries after the
 * first one, like the chat view.
 */
export function buildDocument(options: Pick<AgentStreamOptions, 'transcript' | 'self' | 'participants'>, view: DocumentViewOptions): DocumentView {
  const { template } = view;
  const header = template.header({ participants: options.participants, personas: view.personas }).trim();
  // Without a prefill the document ends at the tag (a trailing blank makes base models write worse);
  // with one, the prefill is the turn's text and follows the tag as the turn format has it.
  const tag = speakerTag(template, options.self.name);
  const opening = view.prefill ? tag + view.prefill : tag.replace(/[ \t]+$/u, '');
  let pieces = options.transcript.map((entry) => ({ entry, text: renderEntry(template, entry) }));
  const sepCost = estimateTokens(template.separator);
  const cost = (t: string) => estimateTokens(t) + sepCost;
  const fixed = estimateTokens(header) + cost(opening) + 1;
  let total = fixed + pieces.reduce((s, p) => s + cost(p.text), 0);

  let trimmed: TrimReport | undefined;
  if (view.contextWindow !== undefined) {
    const budget = view.contextWindow - view.reservedTokens;
    const dropped: TranscriptEntry[] = [];
    while (total > budget && pieces.length > 2) {
      const [gone] = pieces.splice(1, 1);
      dropped.push(gone!.entry);
      total -= cost(gone!.text);
    }
    if (dropped.length > 0) {
      trimmed = { droppedTurns: dropped.map((e) => e.turn), estimatedTokens: total + view.reservedTokens, contextWindow: view.contextWindow };
    }
  }

  const body = pieces.map((p) => p.text);
  body.push(opening);
  const prompt = (header ? `${header}\n\n` : '') + body.join(template.separator);

  const stops = new Set<string>();
  for (const p of options.participants) {
    const tag = speakerTag(template, p.name).replace(/[ \t]+$/u, '');
    if (tag.trim() !== '') stops.add(`\n${tag.replace(/^\s+/u, '')}`);
  }
  const suffix = fill(turnSuffix(template), options.self.name, '').trim();
  if (suffix) stops.add(suffix);
  return { prompt, stops: [...stops], ...(trimmed ? { trimmed } : {}), estimatedTokens: total };
}
