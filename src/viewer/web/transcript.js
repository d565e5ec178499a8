// @ts-check
// The live transcript of one run. Model text goes into text nodes and <mark> elements through
// textContent only; a turn that says <script> shows the characters "<script>".
import { attractorColour, clear, el, personaColour } from './dom.js';
import { runLink } from './forks.js';

/**
 * @import { Change, ForkItem, Item, RunModel, TurnItem } from './run-model.js'
 * @import { ForkLinks } from './forks.js'
 */

/** @param {string} s */
const escapeRegExp = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Words match whole words, case-insensitively; a detector term ending in `*` (`etern*`) matches every
 * word starting with it; emoji and other symbols match anywhere.
 * @param {string} k
 */
function keywordPattern(k) {
  const edge = '(?<![\\p{L}\\p{N}])';
  if (/^[\p{L}\p{N}][\p{L}\p{N}' -]*\*$/u.test(k)) return `${edge}${escapeRegExp(k.slice(0, -1))}[\\p{L}\\p{N}]*`;
  if (/^[\p{L}\p{N}][\p{L}\p{N}' -]*$/u.test(k)) return `${edge}${escapeRegExp(k)}(?![\\p{L}\\p{N}])`;
  return escapeRegExp(k);
}

/** @type {Map<string, RegExp>} */
const regExps = new Map();

/**
 * One case-insensitive pattern for all the keywords, longest first; null when there are none.
 * @param {Iterable<string>} keywords
 * @returns {RegExp | null}
 */
function keywordRegExp(keywords) {
  const list = [...keywords].filter((k) => k.length > 0).sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
  if (list.length === 0) return null;
  const key = list.join('\u0000');
  let re = regExps.get(key);
  if (!re) {
    if (regExps.size > 200) regExps.clear();
    re = new RegExp(list.map(keywordPattern).join('|'), 'giu');
    regExps.set(key, re);
  }
  return re;
}

/**
 * Text with the keywords wrapped in <mark>, as DOM nodes.
 * @param {string} text
 * @param {Iterable<string>} keywords
 * @returns {DocumentFragment}
 */
export function highlighted(text, keywords) {
  const fragment = document.createDocumentFragment();
  const re = keywordRegExp(keywords);
  if (!re) {
    fragment.append(document.createTextNode(text));
    return fragment;
  }
  re.lastIndex = 0;
  let last = 0;
  for (const match of text.matchAll(re)) {
    if (match.index > last) fragment.append(document.createTextNode(text.slice(last, match.index)));
    fragment.append(el('mark', { className: 'kw', text: match[0] }));
    last = match.index + match[0].length;
  }
  if (last < text.length) fragment.append(document.createTextNode(text.slice(last)));
  return fragment;
}

export class TranscriptView {
  /**
   * @param {HTMLElement} list the <ol> that holds one <li> per item
   * @param {HTMLElement} scroller the element that scrolls it
   * @param {ForkLinks} links how a fork's marker opens its parent
   */
  constructor(list, scroller, links) {
    this.list = list;
    this.scroller = scroller;
    this.links = links;
    /** @type {Map<number, HTMLLIElement>} */
    this.nodes = new Map();
    /** @type {RunModel | null} */
    this.model = null;
  }

  /** @param {RunModel | null} model */
  show(model) {
    this.model = model;
    clear(this.list);
    this.nodes.clear();
    if (!model) return;
    for (const item of model.items) this.add(item);
    this.scrollToEnd();
  }

  /**
   * Reflect one change returned by RunModel.apply.
   * @param {Change} change
   */
  apply(change) {
    const stick = this.nearEnd();
    if (change.before) this.add(change.before);
    if (change.added) this.add(change.added);
    if (change.updated) this.update(change.updated, change.delta);
    if (change.keywords) this.rehighlight();
    else if (change.termsOfTurn !== undefined) this.rehighlight(change.termsOfTurn);
    if (stick) this.scrollToEnd();
  }

  /** @param {Item} item */
  add(item) {
    const node = el('li', { dataset: { item: item.id } });
    this.nodes.set(item.id, node);
    this.render(item, node);
    this.list.append(node);
  }

  /**
   * @param {Item} item
   * @param {string} [delta] text appended to a streaming turn
   */
  update(item, delta) {
    const node = this.nodes.get(item.id);
    if (!node) return this.add(item);
    /** @type {HTMLElement | null} */
    const textNode = node.querySelector('.turn-text');
    // Streaming fast path: one text node grows, nothing else is rebuilt.
    if (delta !== undefined && item.kind === 'turn' && item.streaming && textNode && textNode.dataset.plain === '1') {
      textNode.append(document.createTextNode(delta));
      return;
    }
    this.render(item, node);
  }

  /**
   * Redraw finished turns (all, or those of one turn number) with the current highlights.
   * @param {number} [turn]
   */
  rehighlight(turn) {
    if (!this.model) return;
    for (const item of this.model.items) {
      if (item.kind === 'turn' && !item.streaming && (turn === undefined || item.turn === turn)) this.update(item);
    }
  }

  /**
   * @param {Item} item
   * @param {HTMLLIElement} node
   */
  render(item, node) {
    const model = this.model;
    // Items come from the model shown; without one there is nothing to draw them against.
    if (!model) return;
    clear(node);
    node.removeAttribute('style');
    this.renderItem(item, node, model);
    // The parent's turns in a fork: shown, but set apart from what the fork generated.
    if (item.copied) node.classList.add('copied');
  }

  /**
   * @param {Item} item
   * @param {HTMLLIElement} node
   * @param {RunModel} model
   */
  renderItem(item, node, model) {
    switch (item.kind) {
      case 'turn':
        return this.renderTurn(item, node, model);
      case 'fork':
        return this.renderFork(item, node);
      case 'inject':
        node.className = 'inject';
        node.append(
          el('div', { className: 'turn-head' }, [
            el('span', { className: 'turn-no', text: `after turn ${item.turn}` }),
            el('span', { className: 'speaker', text: `${item.perturb ? 'perturbation' : 'injected'} as ${item.as === 'narrator' ? 'narrator' : model.agentName(item.as)}` }),
            el('span', { className: 'turn-meta', text: `by ${item.by}` }),
          ]),
          el('div', { className: 'turn-text', text: item.text }),
        );
        return;
      case 'attractor': {
        node.className = `onset ${item.entered ? 'entered' : 'exited'}`;
        node.style.setProperty('--attractor', attractorColour(item.attractor));
        const words = item.words.length > 0 ? ` · ${item.words.slice(0, 8).join(', ')}` : '';
        node.append(
          el('span', { className: 'onset-badge', text: item.attractor }),
          el('span', { text: `${item.entered ? 'entered' : 'left'} at turn ${item.turn} (score ${formatScore(item.score)})${words}` }),
        );
        return;
      }
      case 'note':
        node.className = `note tone-${item.tone}`;
        node.textContent = item.text;
        return;
      default:
        node.textContent = '';
    }
  }

  /**
   * The line between a fork's copied turns and its own: whence it came, at which turn, and how it differs.
   * @param {ForkItem} item
   * @param {HTMLLIElement} node
   */
  renderFork(item, node) {
    const { fork } = item;
    node.className = 'fork-marker';
    node.dataset.atTurn = String(fork.atTurn);
    node.append(
      el('div', { className: 'fork-marker-line' }, [
        el('span', { className: 'fork-icon', text: '↳' }),
        el('span', { text: 'forked from ' }),
        runLink(fork.parentRunId, fork.parentRunId, this.links, 'parent-link'),
        el('span', { text: ` at turn ${fork.atTurn} — ${fork.condition}` }),
      ]),
      el('div', { className: 'fork-marker-note', text: `turns 1–${fork.atTurn} above are copied from the parent's log; from turn ${fork.atTurn + 1} on, this run (sample #${fork.sample}) generated its own` }),
    );
  }

  /**
   * @param {TurnItem} item
   * @param {HTMLLIElement} node
   * @param {RunModel} model the model the item belongs to
   */
  renderTurn(item, node, model) {
    const index = model.agentIndex(item.agentId);
    node.className = ['turn', item.streaming ? 'streaming' : '', item.failed ? 'failed' : '', item.stopped ? 'stopped' : '', item.empty ? 'empty' : ''].filter(Boolean).join(' ');
    node.dataset.turn = String(item.turn);
    node.dataset.agent = item.agentId;
    node.style.setProperty('--persona', personaColour(index));
    const meta = item.meta
      ? `${item.meta.outputTokens} tok · ${(item.meta.latencyMs / 1000).toFixed(1)} s${item.meta.attempts > 1 ? ` · ${item.meta.attempts} attempts` : ''}${item.meta.finishReason !== 'stop' && item.meta.finishReason !== 'end_turn' ? ` · ${item.meta.finishReason}` : ''}`
      : item.failed
        ? 'failed'
        : item.stopped
          ? 'cut short by the stop'
          : item.waiting
            ? `waiting for a response · ${formatSeconds(item.waiting.elapsedMs)}${item.waiting.attempt > 1 ? ` · attempt ${item.waiting.attempt}` : ''}`
            : item.streaming
              ? 'streaming…'
              : '';
    const text = el('div', { className: 'turn-text' });
    if (item.waiting && !item.text) {
      text.append(
        el('span', {
          className: 'waiting',
          text: `no answer yet: ${formatSeconds(item.waiting.attemptElapsedMs)} on attempt ${item.waiting.attempt}${item.waiting.attempt > 1 ? ` (${formatSeconds(item.waiting.elapsedMs)} since the turn began)` : ''}`,
        }),
      );
    } else if (item.streaming) {
      text.dataset.plain = '1';
      text.append(document.createTextNode(item.text));
    } else if (item.empty && !item.failed && !item.stopped) {
      text.append(el('span', { className: 'placeholder', text: '(empty turn)' }));
    } else {
      text.append(highlighted(item.text, model.keywordsFor(item.turn)));
    }
    node.append(
      el('div', { className: 'turn-head' }, [
        el('span', { className: 'turn-no', text: `Turn ${item.turn}` }),
        el('span', { className: 'speaker', text: model.agentName(item.agentId) }),
        item.copied ? el('span', { className: 'copied-tag', text: 'copied from the parent' }) : null,
        item.failed ? el('span', { className: 'failed-badge', text: 'FAILED' }) : null,
        item.stopped ? el('span', { className: 'stopped-badge', text: 'STOPPED' }) : null,
        el('span', { className: 'turn-meta', text: meta }),
      ]),
      text,
    );
    if (item.notes.length > 0) node.append(el('ul', { className: 'turn-notes' }, item.notes.map((n) => el('li', { text: n }))));
  }

  nearEnd() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < 80;
  }

  scrollToEnd() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }
}

/** @param {number} ms */
function formatSeconds(ms) {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}

/** @param {number} score */
export function formatScore(score) {
  return typeof score === 'number' ? score.toFixed(2) : String(score);
}
