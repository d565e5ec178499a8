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
 * A fork's place among its parent's children: fork turn, condition, sample.
 * @param {RunListEntry} run
 */
export function forkLabel(run) {
  const f = run.fork;
  return f ? `turn ${f.atTurn} · ${f.condition} · #${f.sample}` : '';
}

/**
 * Children in the order a reader scans them: by fork turn, then condition, then sample.
 * @param {RunListEntry} a
 * @param {RunListEntry} b
 */
export function byForkPlace(a, b) {
  const fa = a.fork;
  const fb = b.fork;
  if (!fa || !fb) return a.runId.localeCompare(b.runId);
  return fa.atTurn - fb.atTurn || fa.condition.localeCompare(fb.condition) || fa.sample - fb.sample || a.runId.localeCompare(b.runId);
}

/**
 * @typedef {object} RunListOptions
 * @property {string | null} selected
 * @property {string} filter matches run id, scenario or batch
 * @property {(runId: string) => void} onSelect
 * @property {Set<string>} expanded parents whose forks are shown
 * @property {(runId: string) => void} onToggle show or hide a parent's forks
 */

/**
 * Redraw the list. A run forked from a listed run sits under its parent (by fork turn, condition and
 * sample), behind a "N forks" toggle; the tree opens by itself down to the selected run, and while filtering.
 * @param {HTMLElement} root
 * @param {RunListEntry[]} runs
 * @param {RunListOptions} options
 */
export function drawRunList(root, runs, options) {
  clear(root);
  const needle = (options.filter ?? '').trim().toLowerCase();
  const shown = runs.filter((r) => !needle || [r.runId, r.scenario ?? '', r.batch ?? ''].some((s) => s.toLowerCase().includes(needle)));
  if (shown.length === 0) {
    root.append(el('li', { className: 'empty', text: runs.length === 0 ? 'no runs yet' : 'no run matches' }));
    return;
  }
  const byId = new Map(shown.map((r) => [r.runId, r]));
  /** @type {Map<string, RunListEntry[]>} */
  const childrenOf = new Map();
  /** @type {RunListEntry[]} */
  const top = [];
  for (const run of shown) {
    const parent = run.fork?.parentRunId;
    if (parent && parent !== run.runId && byId.has(parent)) {
      const list = childrenOf.get(parent) ?? [];
      list.push(run);
      childrenOf.set(parent, list);
    } else top.push(run);
  }
  // The selected run's ancestors are open, so the selection is never hidden inside a closed parent.
  const open = new Set(options.expanded);
  for (let id = options.selected, hops = 0; id && hops < 50; hops++) {
    const parent = byId.get(id)?.fork?.parentRunId;
    if (!parent) break;
    open.add(parent);
    id = parent;
  }
  /** @type {Set<string>} */
  const drawn = new Set();
  /**
   * @param {RunListEntry} run
   * @param {number} depth
   * @returns {HTMLLIElement}
   */
  const item = (run, depth) => {
    drawn.add(run.runId);
    const li = el('li', { className: depth > 0 ? 'fork-child' : '' }, [runButton(run, options, depth > 0)]);
    const kids = (childrenOf.get(run.runId) ?? []).filter((k) => !drawn.has(k.runId)).sort(byForkPlace);
    if (kids.length === 0) return li;
    const expanded = open.has(run.runId) || needle !== '';
    li.append(
      el('button', {
        className: 'fork-toggle',
        text: `${expanded ? '▾' : '▸'} ${kids.length} fork${kids.length > 1 ? 's' : ''}`,
        attrs: { type: 'button', 'aria-expanded': String(expanded) },
        dataset: { parent: run.runId },
        on: { click: () => options.onToggle(run.runId) },
      }),
    );
    if (expanded) li.append(el('ul', { className: 'fork-children' }, kids.map((k) => item(k, depth + 1))));
    return li;
  };
  for (const run of top) root.append(item(run, 0));
}

/**
 * @param {RunListEntry} run
 * @param {RunListOptions} options
 * @param {boolean} nested shown under its parent: the fork's place leads
 */
function runButton(run, options, nested) {
  const selected = run.runId === options.selected;
  const meta = `${run.turns} turns${run.scenario && !nested ? ` · ${run.scenario}` : ''}${run.batch && !nested ? ` · ${run.batch}` : ''}`;
  return el(
    'button',
    {
      className: `run-item${selected ? ' selected' : ''}${run.fork ? ' is-fork' : ''}`,
      attrs: { type: 'button', 'aria-pressed': selected ? 'true' : 'false' },
      dataset: { runId: run.runId, status: run.status },
      on: { click: () => options.onSelect(run.runId) },
    },
    [
      run.fork ? el('span', { className: 'fork-place', text: `↳ ${forkLabel(run)}`, title: `forked from ${run.fork.parentRunId} after turn ${run.fork.atTurn}` }) : null,
      // Under its parent a fork's id is the parent's plus its own tail: the tail is what tells them apart.
      el('span', { className: 'run-id', text: nested && run.fork && run.runId.startsWith(run.fork.parentRunId) ? `…${run.runId.slice(run.fork.parentRunId.length)}` : run.runId, title: run.runId }),
      el('span', { className: 'run-line' }, [statusBadge(run.status, run.live), el('span', { className: 'run-meta', text: meta })]),
      el('span', { className: 'run-attractors' }, attractorBadges(run)),
    ],
  );
}
