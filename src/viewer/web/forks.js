// @ts-check
// A run's forks: for a parent, its children grouped by fork turn and condition; for a child, where it
// departed from its parent. Built from the run list (children appear there live, as other runs do).
import { attractorColour, clear, el } from './dom.js';
import { byForkPlace, statusBadge } from './run-list.js';

/**
 * @import { RunFork, RunListEntry } from '../protocol.js'
 */

/**
 * @typedef {object} ForkLinks
 * @property {(runId: string) => void} onOpen open a run in the viewer
 * @property {(runId: string) => string} hrefOf the page address that opens a run
 * @property {() => void} [showDeparture] bring the shown fork's departure marker into view
 */

/**
 * A link that opens another run in this page (a plain link too: it can be opened in a new tab).
 * @param {string} runId
 * @param {string} text
 * @param {ForkLinks} links
 * @param {string} className
 */
export function runLink(runId, text, links, className) {
  return el('a', {
    className,
    text,
    attrs: { href: links.hrefOf(runId) },
    dataset: { runId },
    on: {
      click: (ev) => {
        const mouse = /** @type {MouseEvent} */ (ev);
        if (mouse.ctrlKey || mouse.metaKey || mouse.shiftKey || mouse.button !== 0) return;
        ev.preventDefault();
        links.onOpen(runId);
      },
    },
  });
}

/**
 * Fill the fork panel of the run shown: the parent it came from, and its own children by fork turn and
 * condition. Hidden for a run that neither is a fork nor has any.
 * @param {HTMLElement} root
 * @param {string} runId
 * @param {RunListEntry[]} runs every listed run
 * @param {RunFork | null} fork the run's own fork facts (from the list, else from its run.started)
 * @param {ForkLinks} links
 */
export function drawForkPanel(root, runId, runs, fork, links) {
  clear(root);
  const children = runs.filter((r) => r.fork?.parentRunId === runId && r.runId !== runId).sort(byForkPlace);
  root.hidden = !fork && children.length === 0;
  if (fork) {
    root.append(
      el('div', { className: 'fork-origin' }, [
        el('span', { className: 'fork-icon', text: '↳' }),
        el('span', { text: 'forked from ' }),
        runLink(fork.parentRunId, fork.parentRunId, links, 'parent-link'),
        el('span', { text: ` at turn ${fork.atTurn} — ${fork.condition} · sample #${fork.sample}` }),
        links.showDeparture ? el('button', { className: 'fork-jump', text: `show turn ${fork.atTurn}`, attrs: { type: 'button' }, on: { click: () => links.showDeparture?.() } }) : null,
      ]),
    );
  }
  if (children.length === 0) return;
  /** @type {Map<number, Map<string, RunListEntry[]>>} */
  const groups = new Map();
  for (const child of children) {
    const f = /** @type {RunFork} */ (child.fork);
    const byCondition = groups.get(f.atTurn) ?? new Map();
    const list = byCondition.get(f.condition) ?? [];
    list.push(child);
    byCondition.set(f.condition, list);
    groups.set(f.atTurn, byCondition);
  }
  const tree = el('ul', { className: 'fork-tree' });
  for (const [atTurn, byCondition] of groups) {
    const conditions = el('ul', { className: 'fork-conditions' });
    for (const [condition, list] of byCondition) {
      conditions.append(
        el('li', { className: 'fork-condition', dataset: { condition } }, [
          el('span', { className: 'fork-condition-name', text: condition, title: condition }),
          el('span', { className: 'fork-chips' }, list.map((child) => chip(child, links))),
        ]),
      );
    }
    tree.append(el('li', { className: 'fork-turn', dataset: { atTurn } }, [el('span', { className: 'fork-turn-label', text: `after turn ${atTurn}` }), conditions]));
  }
  root.append(el('div', { className: 'fork-head', text: `${children.length} fork${children.length > 1 ? 's' : ''} of this run` }), tree);
}

/**
 * One child: its sample number, status, turns and the attractors it entered with their onset turns.
 * @param {RunListEntry} child
 * @param {ForkLinks} links
 */
function chip(child, links) {
  const now = child.attractors[0];
  const onsets = child.onsets ?? child.seenAttractors.map((attractor) => ({ attractor, turn: null }));
  const link = runLink(child.runId, '', links, `fork-chip status-${child.status}${now ? ' in-attractor' : ''}`);
  link.title = `${child.runId}\n${child.status} · ${child.turns} turns`;
  link.style.setProperty('--cell', now ? attractorColour(now) : '#d1d5db');
  link.append(
    el('span', { className: 'chip-sample', text: `#${child.fork?.sample ?? '?'}` }),
    statusBadge(child.status, child.live),
    el('span', { className: 'chip-turns', text: `${child.turns} t` }),
    ...onsets.map((o) => el('span', { className: 'chip-onset', text: `${o.attractor}${o.turn === null ? '' : ` @${o.turn}`}`, style: { '--chip': attractorColour(o.attractor) } })),
  );
  return link;
}
