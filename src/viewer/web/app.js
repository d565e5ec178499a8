// @ts-check
// persona-arena viewer: wires the connection, the run models and the views together.
import { drawDrift, drawScores } from './charts.js';
import { Connection } from './connection.js';
import { clear, el, personaColour } from './dom.js';
import { drawForkPanel } from './forks.js';
import { batchesOf, drawGrid } from './grid.js';
import { RunModel } from './run-model.js';
import { attractorBadges, drawRunList, statusBadge } from './run-list.js';
import { TranscriptView } from './transcript.js';

/**
 * @import { ArenaEvent } from '../../runlog/events.js'
 * @import { ControlCommand, RunListEntry, ServerMessage, ViewerRunStatus } from '../protocol.js'
 */

/**
 * The page's element with this id, of the kind the code uses it as (index.html has them all).
 * @template {Element} T
 * @param {string} id
 * @param {{ new (): T, prototype: T }} kind
 * @returns {T}
 */
function byId(id, kind) {
  const node = document.getElementById(id);
  if (!(node instanceof kind)) throw new Error(`viewer: the page has no ${kind.name} #${id}`);
  return node;
}
/** @param {string} id */
const $ = (id) => byId(id, HTMLElement);
const params = new URLSearchParams(location.search);

/**
 * @typedef {object} PageState
 * @property {string | null} token the control token from the address, if any
 * @property {Map<string, RunListEntry>} runs the run list, by run id
 * @property {Map<string, RunModel>} models every run opened on this page
 * @property {string | null} selected
 * @property {'run' | 'grid'} view
 * @property {string | null} batch the batch the grid shows
 * @property {string} filter
 * @property {string} link
 * @property {boolean} everOpened
 * @property {Set<string>} expanded parents whose forks the run list shows
 */

/** @type {PageState} */
const state = {
  token: params.get('token'),
  runs: new Map(),
  models: new Map(),
  selected: params.get('run'),
  view: params.get('view') === 'grid' ? 'grid' : 'run',
  batch: params.get('batch'),
  filter: '',
  link: 'connecting',
  everOpened: false,
  // A run named in the address opens with its forks shown, as a run opened by a click does.
  expanded: new Set(params.get('run') ? [params.get('run') ?? ''] : []),
};

/**
 * The page's address for a run (the token kept), so a link to it can also open in a new tab.
 * @param {string} runId
 */
function hrefOf(runId) {
  const next = new URLSearchParams();
  if (state.token) next.set('token', state.token);
  next.set('run', runId);
  return `${location.pathname}?${next}`;
}
/** @type {import('./forks.js').ForkLinks} */
const links = {
  onOpen: (runId) => select(runId),
  hrefOf,
  showDeparture: () => document.querySelector('#transcript li.fork-marker')?.scrollIntoView({ block: 'center' }),
};

const transcript = new TranscriptView($('transcript'), $('transcript-wrap'), links);
// A viewer bound beyond localhost lets only token holders read; on localhost the token is not needed to read.
const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws${state.token ? `?token=${encodeURIComponent(state.token)}` : ''}`;
const conn = new Connection(wsUrl, {
  onMessage,
  onState(link) {
    state.link = link;
    if (link === 'open') state.everOpened = true;
    const node = $('link');
    // A viewer bound beyond localhost refuses pages without the token; the browser hides why, so say it.
    const refused = link === 'reconnecting' && !state.everOpened && !state.token;
    node.textContent = refused
      ? 'not connected: this viewer may need the address with ?token= that it printed'
      : ({ open: 'connected', connecting: 'connecting…', reconnecting: 'reconnecting…' }[link] ?? link);
    node.className = `link link-${link}`;
  },
  resumePoints: () => (state.selected ? [{ runId: state.selected, afterSeq: modelOf(state.selected).lastSeq }] : []),
});

/** @param {string} runId */
function modelOf(runId) {
  let model = state.models.get(runId);
  if (!model) {
    model = new RunModel(runId);
    state.models.set(runId, model);
  }
  return model;
}

/** @param {ServerMessage} msg */
function onMessage(msg) {
  switch (msg.type) {
    case 'runs':
      state.runs = new Map(msg.runs.map((r) => [r.runId, r]));
      if (!state.selected && state.view === 'run') {
        const first = msg.runs[0];
        if (first) select(first.runId);
      }
      return redrawLists();
    case 'run':
      state.runs.set(msg.run.runId, msg.run);
      // The first run to appear in an empty viewer is the one the user is waiting for.
      if (!state.selected && state.view === 'run') select(msg.run.runId);
      // The address named a run that had not started yet (`arena demo` prints it first): follow it now.
      else if (msg.run.runId === state.selected && modelOf(msg.run.runId).waiting) {
        modelOf(msg.run.runId).waiting = false;
        conn.send({ type: 'subscribe', runs: [{ runId: msg.run.runId, afterSeq: modelOf(msg.run.runId).lastSeq }] });
        say('', 'ok');
      }
      redrawLists();
      if (msg.run.runId === state.selected) drawHeader();
      return;
    case 'subscribed':
      modelOf(msg.runId).waiting = false;
      return;
    case 'events':
      return applyEvents(msg.runId, msg.events);
    case 'replayed':
      modelOf(msg.runId).replayed = true;
      if (msg.runId === state.selected) $('run-view').dataset.replayed = 'true';
      return;
    case 'ack':
      return say(`${msg.command} sent to ${msg.runId}`, 'ok');
    case 'error':
      if (msg.code === 'unknown_run' && state.selected && !state.runs.has(state.selected)) {
        modelOf(state.selected).waiting = true;
        drawHeader();
        return say('', 'ok');
      }
      return say(msg.message, 'error');
    default:
      return undefined;
  }
}

let chartsPending = false;
/**
 * @param {string} runId
 * @param {ArenaEvent[]} events
 */
function applyEvents(runId, events) {
  const model = modelOf(runId);
  const shown = runId === state.selected;
  let meta = false;
  for (const event of events) {
    const change = model.apply(event);
    if (!change) continue;
    if (shown) transcript.apply(change);
    if (change.charts) chartsPending = true;
    if (change.meta) meta = true;
  }
  if (!shown) return;
  if (meta) {
    drawHeader();
    drawForks();
  }
  if (chartsPending) requestAnimationFrame(drawCharts);
}

function drawCharts() {
  if (!chartsPending || !state.selected) return;
  chartsPending = false;
  const model = modelOf(state.selected);
  drawScores(byId('score-chart', SVGSVGElement), $('score-legend'), model);
  drawDrift(byId('drift-chart', SVGSVGElement), model);
}

/** @param {string} runId */
function select(runId) {
  if (state.selected === runId && state.view === 'run') return;
  if (state.selected && state.selected !== runId) conn.send({ type: 'unsubscribe', runIds: [state.selected] });
  state.selected = runId;
  state.view = 'run';
  // Opening a parent opens its forks in the run list (its toggle closes them again).
  state.expanded.add(runId);
  const model = modelOf(runId);
  $('run-view').dataset.replayed = model.replayed ? 'true' : 'false';
  transcript.show(model);
  chartsPending = true;
  drawCharts();
  drawHeader();
  drawForks();
  showView();
  redrawLists();
  conn.send({ type: 'subscribe', runs: [{ runId, afterSeq: model.lastSeq }] });
  syncUrl();
}

function drawHeader() {
  const runId = state.selected;
  const head = $('run-head');
  head.hidden = !runId;
  $('empty-state').hidden = Boolean(runId);
  if (!runId) return;
  const model = modelOf(runId);
  const summary = state.runs.get(runId);
  const status = summary?.status ?? model.status;
  $('run-title').textContent = runId;
  $('run-scenario').textContent = model.scenario ?? summary?.scenario ?? '';
  const badges = $('run-badges');
  clear(badges);
  badges.append(statusBadge(status, summary?.live ?? false), ...(summary ? attractorBadges(summary) : []));
  badges.dataset.status = status;
  const agents = $('run-agents');
  clear(agents);
  model.agents.forEach((a, i) => {
    const chip = el('span', { className: 'agent-chip', text: a.model ? `${a.name} · ${a.model}` : a.name });
    chip.style.setProperty('--persona', personaColour(i));
    agents.append(chip);
  });
  const select = byId('inject-as', HTMLSelectElement);
  const current = select.value;
  clear(select);
  select.append(el('option', { text: 'as narrator', attrs: { value: 'narrator' } }));
  for (const a of model.agents) select.append(el('option', { text: `as ${a.name}`, attrs: { value: a.id } }));
  // A prefill is not a message: the agent's next turn starts with the text, and the agent continues it.
  for (const a of model.agents) select.append(el('option', { text: `prefill ${a.name}'s next turn`, attrs: { value: `prefill:${a.id}` } }));
  if ([...select.options].some((o) => o.value === current)) select.value = current;
  // The run's own events are the freshest word on its state; the run list catches up within a moment.
  const live = Boolean(summary?.live) && !model.finished && !FINISHED.has(status);
  const runState = model.status === 'starting' ? status : model.status;
  /** @type {Record<string, boolean>} */
  const enabled = {
    pause: live && runState === 'running',
    resume: live && runState === 'paused',
    stop: live && !model.stopRequested,
    inject: live && !model.stopRequested,
  };
  for (const button of commandButtons()) button.disabled = !enabled[button.dataset.cmd ?? ''];
  for (const node of document.querySelectorAll('#inject-form button, #inject-form textarea, #inject-form select')) {
    if (node instanceof HTMLButtonElement || node instanceof HTMLTextAreaElement || node instanceof HTMLSelectElement) node.disabled = !enabled.inject;
  }
  $('control-hint').textContent = controlHint(model, summary, status);
}

/** The selected run's fork panel: the parent it came from, the children forked from it. */
function drawForks() {
  const runId = state.selected;
  const panel = $('fork-panel');
  if (!runId) {
    panel.hidden = true;
    return;
  }
  const model = modelOf(runId);
  const fork = state.runs.get(runId)?.fork ?? model.fork;
  drawForkPanel(panel, runId, [...state.runs.values()], fork ?? null, links);
}

/** The Pause / Resume / Stop buttons; each names its command in data-cmd. */
function commandButtons() {
  return /** @type {NodeListOf<HTMLButtonElement>} */ (document.querySelectorAll('#controls button[data-cmd]'));
}

/** @type {Set<ViewerRunStatus>} */
const FINISHED = new Set(['completed', 'stopped', 'failed', 'interrupted']);

/**
 * Why the controls are off, when they are.
 * @param {RunModel} model
 * @param {RunListEntry | undefined} summary
 * @param {ViewerRunStatus} status
 */
function controlHint(model, summary, status) {
  if (!summary) return model.waiting ? 'waiting for this run to start…' : '';
  if (model.finished || FINISHED.has(status)) return `this run is over (${model.finished ? model.status : status}): nothing left to steer`;
  if (!summary.live) return 'this run is written by another process: watch only';
  if (!state.token) return 'read-only link: controls need the ?token= address printed by the server';
  return '';
}

function redrawLists() {
  const runs = [...state.runs.values()];
  drawRunList($('run-list'), runs, {
    selected: state.selected,
    filter: state.filter,
    onSelect: select,
    expanded: state.expanded,
    onToggle(runId) {
      if (state.expanded.has(runId)) state.expanded.delete(runId);
      else state.expanded.add(runId);
      redrawLists();
    },
  });
  if (state.view === 'run') drawForks();
  const batches = batchesOf(runs);
  const picker = byId('grid-batch', HTMLSelectElement);
  const before = state.batch ?? picker.value;
  clear(picker);
  for (const b of batches) picker.append(el('option', { text: b, attrs: { value: b } }));
  state.batch = batches.includes(before) ? before : (batches.find((b) => !b.startsWith('(')) ?? batches[0] ?? null);
  if (state.batch) picker.value = state.batch;
  if (state.view === 'grid' && state.batch) drawGrid($('grid'), $('grid-legend'), runs, state.batch, select);
}

function showView() {
  $('run-view').hidden = state.view !== 'run';
  $('grid-view').hidden = state.view !== 'grid';
  $('tab-run').setAttribute('aria-pressed', String(state.view === 'run'));
  $('tab-grid').setAttribute('aria-pressed', String(state.view === 'grid'));
  if (state.view === 'grid') redrawLists();
}

function syncUrl() {
  const next = new URLSearchParams();
  if (state.token) next.set('token', state.token);
  if (state.selected) next.set('run', state.selected);
  if (state.view === 'grid') next.set('view', 'grid');
  if (state.view === 'grid' && state.batch) next.set('batch', state.batch);
  history.replaceState(null, '', `${location.pathname}?${next}`);
}

/**
 * @param {string} text
 * @param {'ok' | 'error'} tone
 */
function say(text, tone) {
  const node = $('control-msg');
  node.textContent = text;
  node.className = `control-msg tone-${tone}`;
}

/** @param {ControlCommand} command */
function sendControl(command) {
  if (!state.selected) return;
  const id = conn.send({ type: 'control', runId: state.selected, ...(state.token ? { token: state.token } : {}), command });
  if (!id) say('not connected; try again in a moment', 'error');
}

for (const button of commandButtons()) {
  button.addEventListener('click', () => {
    const type = button.dataset.cmd;
    if (type === 'pause' || type === 'resume' || type === 'stop') sendControl({ type });
  });
}
$('inject-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const input = byId('inject-text', HTMLTextAreaElement);
  const text = input.value.trim();
  if (!text) return;
  const as = byId('inject-as', HTMLSelectElement).value;
  // A prefill is sent as typed: a trailing blank decides where the agent's first word goes.
  if (as.startsWith('prefill:')) sendControl({ type: 'prefill', text: input.value, agentId: as.slice('prefill:'.length) });
  else sendControl({ type: 'inject', text, ...(as && as !== 'narrator' ? { as } : {}) });
  input.value = '';
});
const filterInput = byId('run-filter', HTMLInputElement);
filterInput.addEventListener('input', () => {
  state.filter = filterInput.value;
  redrawLists();
});
$('tab-run').addEventListener('click', () => {
  state.view = 'run';
  showView();
  syncUrl();
});
$('tab-grid').addEventListener('click', () => {
  state.view = 'grid';
  showView();
  syncUrl();
});
const batchPicker = byId('grid-batch', HTMLSelectElement);
batchPicker.addEventListener('change', () => {
  state.batch = batchPicker.value;
  redrawLists();
  syncUrl();
});

drawHeader();
showView();
if (state.selected) {
  transcript.show(modelOf(state.selected));
}
conn.connect();

// For debugging from the console.
Object.assign(window, { arenaViewer: { state, conn } });
