// @ts-check
// The run list: one button per run with its status and attractor badges.
import { attractorColour, clear, el } from './dom.js';

/** @import { RunListEntry, ViewerRunStatus } from '../protocol.js' */

/**
 * @param {ViewerRunStatus} status
 * @param {boolean} live
 */
export function statusBadge(status, live) {
  return el('span', { className: `badge status status-${status}`, text: live && status === 'running' ? 'live' : status });
}

/**
 * One badge per attractor the run entered; those it is in now are marked current.
 * @param {RunListEntry} run
 */
export function attractorBadges(run) {
  /** @type {HTMLElement[]} */
  const badges = [];
  for (const name of run.seenAttractors) {
    const current = run.attractors.includes(name);
    const badge = el('span', {
      className: `badge attractor ${current ? 'current' : 'past'}`,
      text: name,
      title: current ? `in ${name} now` : `was in ${name}`,
      style: { '--attractor': attractorColour(name) },
    });
    badge.dataset.attractor = name;
    badges.push(badge);
  }
  return badges;
}

/**
 * Redraw the list; `filter` matches run id, scenario or batch.
 * @param {HTMLElement} root
 * @param {RunListEntry[]} runs
 * @param {{ selected: string | null, filter: string, onSelect: (runId: string) => void }} options
 */
export function drawRunList(root, runs, { selected, filter, onSelect }) {
  clear(root);
  const needle = (filter ?? '').trim().toLowerCase();
  const shown = runs.filter((r) => !needle || [r.runId, r.scenario ?? '', r.batch ?? ''].some((s) => s.toLowerCase().includes(needle)));
  if (shown.length === 0) {
    root.append(el('li', { className: 'empty', text: runs.length === 0 ? 'no runs yet' : 'no run matches' }));
    return;
  }
  for (const run of shown) {
    const button = el(
      'button',
      {
        className: `run-item${run.runId === selected ? ' selected' : ''}`,
        attrs: { type: 'button', 'aria-pressed': run.runId === selected ? 'true' : 'false' },
        dataset: { runId: run.runId, status: run.status },
        on: { click: () => onSelect(run.runId) },
      },
      [
        el('span', { className: 'run-id', text: run.runId }),
        el('span', { className: 'run-line' }, [
          statusBadge(run.status, run.live),
          el('span', { className: 'run-meta', text: `${run.turns} turns${run.scenario ? ` · ${run.scenario}` : ''}${run.batch ? ` · ${run.batch}` : ''}` }),
        ]),
        el('span', { className: 'run-attractors' }, attractorBadges(run)),
      ],
    );
    root.append(el('li', {}, [button]));
  }
}
