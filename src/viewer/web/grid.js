// @ts-check
// A batch at a glance: a matrix with one row per pairing (and scenario), one column per parameter set,
// and in each cell the runs by repetition. Every tile names each attractor its run entered and the
// turn it did, and is filled with the colour of the attractor the run is in now.
import { attractorColour, clear, el } from './dom.js';

/** @import { RunListEntry } from '../protocol.js' */

const NO_BATCH = '(runs without a batch)';

/**
 * The batches the runs belong to, sorted, with the runs outside any batch last.
 * @param {RunListEntry[]} runs
 * @returns {string[]}
 */
export function batchesOf(runs) {
  const names = new Set(runs.map((r) => r.batch ?? NO_BATCH));
  return [...names].sort((a, b) => (a === NO_BATCH ? 1 : b === NO_BATCH ? -1 : a.localeCompare(b)));
}

/**
 * Row label: the pairing (models by seat), with the scenario when a batch has several.
 * @param {RunListEntry} run
 * @param {number} scenarios how many scenarios the batch has
 */
function rowOf(run, scenarios) {
  const cell = run.cell;
  if (!cell) return run.scenario ?? 'runs';
  const pairing = cell.pairing ? cell.pairing.join(' ↔ ') : run.agents.map((a) => a.name).join(' ↔ ') || 'scenario agents';
  return scenarios > 1 ? `${cell.scenario} · ${pairing}` : pairing;
}

/**
 * Column label: the parameters a plan varies besides the pairing.
 * @param {RunListEntry} run
 */
function columnOf(run) {
  const t = run.cell?.temperature;
  return t === undefined ? 'default parameters' : `temperature ${t}`;
}

/** @type {(a: string, b: string) => number} */
const byLabel = (a, b) => a.localeCompare(b, undefined, { numeric: true });

/**
 * One run's tile: repetition, turns, status, and every attractor entered with its onset turn.
 * @param {RunListEntry} run
 * @param {(runId: string) => void} onOpen
 */
function tile(run, onOpen) {
  const now = run.attractors[0];
  /** @type {{ attractor: string, turn: number | null }[]} */
  const onsets = run.onsets ?? run.seenAttractors.map((attractor) => ({ attractor, turn: null }));
  const rep = run.cell ? `#${run.cell.repetition}` : run.runId;
  const node = el(
    'button',
    {
      className: `cell status-${run.status}${now ? ' in-attractor' : ''}${run.live ? ' live' : ''}`,
      attrs: { type: 'button' },
      title: `${run.runId}\n${run.status} · ${run.turns} turns${onsets.length ? `\n${onsets.map((o) => `${o.attractor} from turn ${o.turn ?? '?'}`).join('\n')}` : ''}`,
      dataset: { runId: run.runId, attractor: now ?? '', repetition: run.cell ? String(run.cell.repetition) : '' },
      on: { click: () => onOpen(run.runId) },
    },
    [
      el('span', { className: 'cell-top' }, [el('span', { className: 'cell-rep', text: rep }), el('span', { className: 'cell-turns', text: `${run.turns} t · ${run.status}` })]),
      el(
        'span',
        { className: 'cell-onsets' },
        onsets.length === 0
          ? [el('span', { className: 'cell-none', text: 'no attractor' })]
          : onsets.map((o) => {
              const inNow = run.attractors.includes(o.attractor);
              const chip = el('span', { className: `onset-chip${inNow ? ' now' : ''}`, text: `${o.attractor} @${o.turn ?? '?'}`, dataset: { attractor: o.attractor } });
              chip.style.setProperty('--chip', attractorColour(o.attractor));
              return chip;
            }),
      ),
    ],
  );
  if (now) node.style.setProperty('--cell', attractorColour(now));
  return node;
}

/**
 * Redraw the grid of one batch; clicking a tile opens that run.
 * @param {HTMLElement} root
 * @param {HTMLElement} legend
 * @param {RunListEntry[]} runs
 * @param {string} batch a name from batchesOf
 * @param {(runId: string) => void} onOpen
 */
export function drawGrid(root, legend, runs, batch, onOpen) {
  clear(root);
  clear(legend);
  const inBatch = runs.filter((r) => (r.batch ?? NO_BATCH) === batch);
  if (inBatch.length === 0) {
    root.append(el('p', { className: 'empty', text: 'no runs in this batch' }));
    return;
  }
  const scenarios = new Set(inBatch.map((r) => r.cell?.scenario ?? r.scenario)).size;
  const rows = [...new Set(inBatch.map((r) => rowOf(r, scenarios)))].sort(byLabel);
  const columns = [...new Set(inBatch.map(columnOf))].sort(byLabel);
  const table = el('table', { className: 'matrix' });
  table.append(el('thead', {}, [el('tr', {}, [el('th', { text: 'pairing' }), ...columns.map((c) => el('th', { text: c, attrs: { scope: 'col' } }))])]));
  const body = el('tbody');
  for (const row of rows) {
    const tr = el('tr', {}, [el('th', { text: row, attrs: { scope: 'row' } })]);
    for (const column of columns) {
      const here = inBatch
        .filter((r) => rowOf(r, scenarios) === row && columnOf(r) === column)
        .sort((a, b) => (a.cell?.repetition ?? 0) - (b.cell?.repetition ?? 0) || a.runId.localeCompare(b.runId));
      tr.append(el('td', {}, [el('div', { className: 'tiles' }, here.map((r) => tile(r, onOpen)))]));
    }
    body.append(tr);
  }
  table.append(body);
  root.append(table);

  /** @type {Map<string, number>} */
  const counts = new Map();
  let none = 0;
  for (const run of inBatch) {
    if (run.seenAttractors.length === 0) none += 1;
    for (const a of run.seenAttractors) counts.set(a, (counts.get(a) ?? 0) + 1);
  }
  for (const [name, count] of [...counts.entries()].sort()) {
    legend.append(el('span', { className: 'legend-item' }, [el('span', { className: 'swatch', style: { background: attractorColour(name) } }), el('span', { text: `${name} (${count} entered)` })]));
  }
  legend.append(el('span', { className: 'legend-item' }, [el('span', { className: 'swatch none' }), el('span', { text: `no attractor (${none})` })]));
}
