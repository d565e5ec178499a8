// @ts-check
// One run as the page knows it, built from its events in seq order. No DOM here: views read the
// model and redraw the parts a change names.

/**
 * @import { ArenaEvent, AttractorEvidence, Term } from '../../runlog/events.js'
 * @import { ViewerRunStatus } from '../protocol.js'
 */

/**
 * A turn's card: built from turn.started/delta/waiting/completed/failed.
 * @typedef {object} TurnItem
 * @property {'turn'} kind
 * @property {number} id
 * @property {string} key `${turn}:${agentId}`
 * @property {number} turn
 * @property {string} agentId
 * @property {string} text
 * @property {boolean} streaming
 * @property {boolean} done
 * @property {boolean} failed
 * @property {boolean} stopped
 * @property {boolean} empty
 * @property {string[]} notes failed attempts and the like, shown under the text
 * @property {{ finishReason: string, latencyMs: number, outputTokens: number, attempts: number } | null} meta
 * @property {boolean} fresh not drawn yet
 * @property {{ attempt: number, elapsedMs: number, attemptElapsedMs: number } | null} waiting
 */
/** @typedef {{ kind: 'note', id: number, text: string, turn: number, tone: string }} NoteItem */
/** @typedef {{ kind: 'attractor', id: number, turn: number, attractor: string, score: number, entered: boolean, words: string[] }} AttractorItem */
/** @typedef {{ kind: 'inject', id: number, turn: number, text: string, as: string, by: string, perturb: boolean }} InjectItem */
/** @typedef {TurnItem | NoteItem | AttractorItem | InjectItem} Item */
/**
 * What one event changed (RunModel.apply), for the views to redraw.
 * @typedef {object} Change
 * @property {Item} [added]
 * @property {Item} [updated]
 * @property {string} [delta] the text an update appended to a streaming turn
 * @property {boolean} [charts]
 * @property {boolean} [keywords] the highlighted words changed: every finished turn is redrawn
 * @property {number} [termsOfTurn] this turn's own matched terms arrived
 * @property {boolean} [meta] status, agents or scenario
 */
/** @typedef {{ id: string, name: string, model?: string, backend?: string }} AgentView */

/**
 * The word of a matched term (the analyzer writes plain words in features, `{term, count}` in evidence).
 * @param {Term} term
 * @returns {string}
 */
export const termText = (term) => (typeof term === 'string' ? term : term.term);

/** Evidence keys outside the run-log contract that other detectors use for their words. */
const OTHER_KEYS = ['keywords', 'words', 'terms', 'matches', 'phrases', 'emoji', 'tokens', 'word', 'term', 'text', 'token'];

/**
 * Words worth highlighting from an attractor's evidence: its `topTerms`, then the words of the other
 * keys detectors outside this arena write (whatever shape they gave them).
 * @param {AttractorEvidence} evidence
 * @returns {string[]}
 */
export function keywordsFrom(evidence) {
  /** @type {string[]} */
  const out = [];
  /** @param {string} word */
  const add = (word) => {
    const t = word.trim();
    if (t.length > 0 && t.length <= 40) out.push(t);
  };
  for (const term of (evidence.topTerms ?? []).slice(0, 100)) add(termText(term));
  /**
   * @param {unknown} value
   * @param {number} depth
   */
  const visit = (value, depth) => {
    if (depth > 4 || value === null || value === undefined) return;
    if (typeof value === 'string') add(value);
    else if (Array.isArray(value)) {
      for (const v of value.slice(0, 100)) visit(v, depth + 1);
    } else if (typeof value === 'object') {
      const record = /** @type {Record<string, unknown>} */ (value);
      for (const key of OTHER_KEYS) {
        if (!(key in record)) continue;
        const v = record[key];
        // {words: {consciousness: 12, eternal: 4}}: the names are the words.
        if (v && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((n) => typeof n === 'number')) {
          for (const k of Object.keys(v).slice(0, 100)) visit(k, depth + 1);
        } else visit(v, depth + 1);
      }
    }
  };
  visit(evidence, 0);
  return out;
}

const FINISHED = new Set(['completed', 'stopped', 'failed', 'interrupted']);

export class RunModel {
  /** @param {string} runId */
  constructor(runId) {
    this.runId = runId;
    /** Seq of the last persisted event applied: where a resubscribe resumes. */
    this.lastSeq = 0;
    /** @type {string | null} */
    this.scenario = null;
    /** @type {AgentView[]} */
    this.agents = [];
    /** @type {ViewerRunStatus} */
    this.status = 'starting';
    /** A stop was asked for: the controls are off while the run winds down. */
    this.stopRequested = false;
    /**
     * Transcript items in display order: turns, interventions, attractor onsets, notes.
     * @type {Item[]}
     */
    this.items = [];
    /** @type {Map<string, TurnItem>} */
    this.turnItems = new Map();
    /**
     * turn → {attractor: score}
     * @type {Map<number, Record<string, number>>}
     */
    this.scores = new Map();
    /**
     * [turn, drift] pairs
     * @type {[number, number][]}
     */
    this.drift = [];
    /** @type {{ attractor: string, turn: number, score: number, entered: boolean }[]} */
    this.onsets = [];
    /** @type {Set<string>} */
    this.keywords = new Set();
    /**
     * Attractors entered at some point: their per-turn matched terms are highlighted too.
     * @type {Set<string>}
     */
    this.entered = new Set();
    /**
     * turn → {attractor: [matched terms]} from analysis.turn features.terms
     * @type {Map<number, Record<string, Term[]>>}
     */
    this.turnTerms = new Map();
    this.nextItemId = 1;
    /** @type {Set<string>} */
    this.seenDeltas = new Set();
    /** The page asked for this run before it existed: subscribe once it appears in the run list. */
    this.waiting = false;
    /** The server has replayed the run's history (set by the page on `replayed`). */
    this.replayed = false;
  }

  /** @param {string} agentId */
  agentIndex(agentId) {
    const i = this.agents.findIndex((a) => a.id === agentId);
    if (i >= 0) return i;
    this.agents.push({ id: agentId, name: agentId });
    return this.agents.length - 1;
  }

  /** @param {string} agentId */
  agentName(agentId) {
    return this.agents.find((a) => a.id === agentId)?.name ?? agentId;
  }

  /**
   * Apply one event. Returns what changed: {added: item}, {updated: item}, {charts: true},
   * {keywords: true}, {meta: true} (any combination), or null when the event was already applied.
   * @param {ArenaEvent} event
   * @returns {Change | null}
   */
  apply(event) {
    if (event.type !== 'turn.delta' && event.type !== 'turn.waiting') {
      if (event.seq <= this.lastSeq) return null;
      this.lastSeq = event.seq;
    }
    switch (event.type) {
      case 'run.started':
        this.agents = event.agents.map((a) => ({ id: a.id, name: a.name, model: a.model, backend: a.backend }));
        this.scenario = typeof event.scenario?.name === 'string' ? event.scenario.name : this.scenario;
        this.status = 'running';
        return { meta: true, added: this.note(`run started · ${this.agents.map((a) => `${a.name} (${a.model})`).join(' ↔ ')}`, 0) };
      case 'run.resumed':
        this.status = 'running';
        return { meta: true, added: this.note(`run resumed after turn ${event.fromTurn}${event.truncatedTail ? ' (a truncated last line was dropped)' : ''}`, event.fromTurn) };
      case 'turn.started': {
        const item = this.turnItem(event.turn, event.agentId);
        const isNew = item.fresh;
        item.fresh = false;
        item.streaming = true;
        item.text = '';
        this.seenDeltas.clear();
        if (this.status === 'starting') this.status = 'running';
        return isNew ? { added: item } : { updated: item };
      }
      case 'turn.waiting': {
        const item = this.turnItem(event.turn, event.agentId);
        if (item.done) return null;
        const isNew = item.fresh;
        item.fresh = false;
        item.waiting = { attempt: event.attempt, elapsedMs: event.elapsedMs, attemptElapsedMs: event.attemptElapsedMs };
        return isNew ? { added: item } : { updated: item };
      }
      case 'turn.delta': {
        if ((event.channel ?? 'text') !== 'text') {
          // Thinking counts as an answer having begun.
          const item = this.turnItem(event.turn, event.agentId);
          if (!item.waiting) return null;
          item.waiting = null;
          return { updated: item };
        }
        const item = this.turnItem(event.turn, event.agentId);
        if (item.done) return null;
        if (item.waiting) {
          // The first token after a wait: redraw the card whole, without the waiting line.
          item.waiting = null;
          item.streaming = true;
          item.fresh = false;
          item.text += event.text;
          return { updated: item };
        }
        if (event.i !== undefined) {
          const key = `${item.key}:${event.seq}:${event.i}`;
          if (this.seenDeltas.has(key)) return null;
          this.seenDeltas.add(key);
        }
        const isNew = item.fresh;
        item.fresh = false;
        item.streaming = true;
        item.text += event.text;
        return isNew ? { added: item } : { updated: item, delta: event.text };
      }
      case 'turn.completed': {
        const item = this.turnItem(event.turn, event.agentId);
        item.waiting = null;
        const isNew = item.fresh;
        Object.assign(item, { fresh: false, streaming: false, done: true, text: event.text, empty: event.empty ?? event.text.trim() === '' });
        item.meta = { finishReason: event.finishReason, latencyMs: event.latencyMs, outputTokens: event.usage.outputTokens, attempts: event.attempts };
        if (event.prefill !== undefined) item.notes.push(`started from the prefill “${event.prefill}”`);
        if (event.replay) item.notes.push('replayed from the cache (no request sent)');
        return isNew ? { added: item } : { updated: item };
      }
      case 'turn.failed': {
        const item = this.turnItem(event.turn, event.agentId);
        item.waiting = null;
        const isNew = item.fresh;
        item.fresh = false;
        item.streaming = false;
        // A turn cut short by a stop is not a failure: older logs say so only through the error's name.
        if (event.aborted || event.error.name === 'AbortedError') {
          item.stopped = true;
          item.done = true;
          item.text = event.partialText ?? item.text;
          item.notes.push('stopped during this turn; the partial text is not counted as a turn');
          return isNew ? { added: item } : { updated: item };
        }
        const what = `attempt ${event.attempt} failed: ${event.error.name}: ${event.error.message}${event.error.status ? ` (HTTP ${event.error.status})` : ''}`;
        item.notes.push(event.willRetry ? `${what} — retrying` : what);
        if (event.willRetry) item.text = '';
        else {
          item.failed = true;
          item.done = true;
          item.text = event.partialText ?? item.text;
        }
        return isNew ? { added: item } : { updated: item };
      }
      case 'context.trimmed':
        return { added: this.note(`context trimmed for ${this.agentName(event.agentId)}: dropped ${event.droppedTurns.length} earlier turn(s)`, event.turn) };
      case 'analysis.turn': {
        this.scores.set(event.turn, event.scores ?? {});
        const { terms, drift } = event.features;
        if (terms) this.turnTerms.set(event.turn, terms);
        if (drift !== undefined && Number.isFinite(drift)) {
          this.drift = this.drift.filter(([t]) => t !== event.turn);
          this.drift.push([event.turn, drift]);
          this.drift.sort((a, b) => a[0] - b[0]);
        }
        return { charts: true, termsOfTurn: event.turn };
      }
      case 'attractor.entered':
      case 'attractor.exited': {
        const entered = event.type === 'attractor.entered';
        const words = entered ? keywordsFrom(event.evidence) : [];
        const before = this.keywords.size + this.entered.size;
        for (const w of words) this.keywords.add(w);
        if (entered) this.entered.add(event.attractor);
        this.onsets.push({ attractor: event.attractor, turn: event.turn, score: event.score, entered });
        const item = this.push({ kind: 'attractor', id: this.nextItemId++, turn: event.turn, attractor: event.attractor, score: event.score, entered, words });
        return { added: item, charts: true, keywords: this.keywords.size + this.entered.size !== before };
      }
      case 'intervention': {
        if (event.kind === 'inject' || event.kind === 'perturb') {
          const item = this.push({ kind: 'inject', id: this.nextItemId++, turn: event.turn, text: event.text ?? '', as: event.as ?? 'narrator', by: event.by, perturb: event.kind === 'perturb' });
          return { added: item };
        }
        if (event.kind === 'pause') this.status = 'paused';
        if (event.kind === 'resume') this.status = 'running';
        if (event.kind === 'stop') this.stopRequested = true;
        // `turn` counts the turns done; one may be streaming: a pause waits for it, a stop cuts it short.
        const inFlight = [...this.turnItems.values()].find((t) => t.turn === event.turn + 1 && !t.done);
        const text =
          event.kind === 'pause' && inFlight
            ? `pause requested by ${event.by} during turn ${inFlight.turn}: the run pauses once it ends`
            : event.kind === 'stop' && inFlight
              ? `stopped by ${event.by} during turn ${inFlight.turn}`
              : `${{ pause: 'paused', resume: 'resumed', stop: 'stopped' }[event.kind]} by ${event.by} after turn ${event.turn}`;
        return { meta: true, added: this.note(text, event.turn, event.kind) };
      }
      case 'run.finished':
        this.status = event.status;
        return {
          meta: true,
          added: this.note(`run ${event.status} (${event.stopReason}) after ${event.turns} turn(s)${event.error ? ` — ${event.error.name}: ${event.error.message}` : ''}`, event.turns, 'finished'),
        };
      default:
        return null;
    }
  }

  /**
   * What to highlight in a turn: the evidence words, plus the turn's own matches for attractors entered.
   * @param {number} turn
   * @returns {Set<string>}
   */
  keywordsFor(turn) {
    const terms = this.turnTerms.get(turn);
    if (!terms) return this.keywords;
    const out = new Set(this.keywords);
    for (const [attractor, list] of Object.entries(terms)) {
      if (!this.entered.has(attractor)) continue;
      for (const term of list) {
        const word = termText(term);
        if (word.length <= 40) out.add(word);
      }
    }
    return out;
  }

  get finished() {
    return FINISHED.has(this.status);
  }

  /**
   * @param {number} turn
   * @param {string} agentId
   * @returns {TurnItem}
   */
  turnItem(turn, agentId) {
    const key = `${turn}:${agentId}`;
    let item = this.turnItems.get(key);
    if (!item) {
      /** @type {TurnItem} */
      const created = { kind: 'turn', id: this.nextItemId++, key, turn, agentId, text: '', streaming: false, done: false, failed: false, stopped: false, empty: false, notes: [], meta: null, fresh: true, waiting: null };
      item = this.push(created);
      this.turnItems.set(key, item);
    }
    return item;
  }

  /**
   * @param {string} text
   * @param {number} turn
   * @param {string} [tone]
   */
  note(text, turn, tone = 'info') {
    return this.push({ kind: 'note', id: this.nextItemId++, text, turn, tone });
  }

  /**
   * Append an item to the transcript (its id comes from nextItemId, taken where it is built).
   * @template {Item} T
   * @param {T} item
   * @returns {T}
   */
  push(item) {
    this.items.push(item);
    return item;
  }
}
