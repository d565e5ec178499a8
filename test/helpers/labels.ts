/** A record of the shared labels format (shared/eval) with nothing present, overridden by `over`. */
export function sharedRecord(source: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    source,
    turns: 10,
    bliss: false,
    bliss_onset_turn: null,
    repetition_loop: false,
    repetition_onset_turn: null,
    farewell_loop: false,
    farewell_onset_turn: null,
    emoji_dominant: false,
    emoji_onset_turn: null,
    silence: false,
    silence_onset_turn: null,
    celebration_ending: false,
    end_state: 'story_or_roleplay',
    confidence: 'high',
    notes: 'a reader note',
    annotators: 1,
    ...over,
  };
}

/** The text of a shared-format labels file holding `records`. */
export function sharedLabels(records: readonly unknown[]): string {
  return JSON.stringify({ corpus: { folder: 'var/backrooms_logs' }, guide: 'label-guide.md', count: records.length, records });
}

/** Ten turns of plain, varied prose that enter no attractor. */
export const GARDEN_PROSE: readonly string[] = [
  'We should plan the vegetable beds before the spring rain arrives next month.',
  'Tomatoes want the sunny corner, and the beans can climb the old fence by the shed.',
  'My neighbour swears that crushed eggshells keep the slugs away from young lettuce.',
  'I have read that copper tape works better, although it costs more per metre.',
  'The compost heap is still too wet; it needs more dry leaves and some cardboard.',
  'Shall we order seed potatoes now, or wait until the frost has clearly passed?',
  'Order them now, since the good varieties sell out quickly at the local nursery.',
  'Then I will measure the plot tomorrow morning and sketch where each row should go.',
  'Remember to leave a path wide enough for the wheelbarrow between the raised beds.',
  'Good point; last year we trampled half the carrots reaching the far corner.',
];
