// @ts-check
// Small DOM helpers. Text always goes in through textContent: model output is never parsed as HTML.

/**
 * What `el` sets on a new element. Values go in as strings (`String(value)`).
 * @typedef {object} ElProps
 * @property {string} [className]
 * @property {string | number} [text] set as textContent
 * @property {string | number} [title]
 * @property {Record<string, string | number>} [dataset]
 * @property {Record<string, string | number>} [attrs] plain attributes, never event handlers
 * @property {Record<string, string>} [style] CSS properties, custom properties included
 * @property {Record<string, EventListener>} [on] event listeners
 */

/**
 * Create an element. `props` may hold className, text (set as textContent), title, dataset, attrs
 * (plain attributes, never event handlers) and on (event listeners).
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {ElProps} [props]
 * @param {(Node | string | null)[]} [children] null entries are skipped
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  if (props.className) node.className = props.className;
  if (props.text !== undefined) node.textContent = String(props.text);
  if (props.title !== undefined) node.title = String(props.title);
  if (props.dataset) for (const [k, v] of Object.entries(props.dataset)) node.dataset[k] = String(v);
  if (props.attrs) for (const [k, v] of Object.entries(props.attrs)) {
    if (/^on/i.test(k)) throw new Error('event handler attributes are not allowed');
    node.setAttribute(k, String(v));
  }
  if (props.style) for (const [k, v] of Object.entries(props.style)) node.style.setProperty(k, String(v));
  if (props.on) for (const [k, fn] of Object.entries(props.on)) node.addEventListener(k, fn);
  for (const child of children) if (child) node.append(child);
  return node;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * Create an SVG element; attribute values are set one by one, never as markup.
 * @template {keyof SVGElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, string | number>} [attrs]
 * @param {string | number} [text] set as textContent
 * @returns {SVGElementTagNameMap[K]}
 */
export function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = String(text);
  return node;
}

/** @param {Node} node */
export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

const PERSONA_COLOURS = ['#2f6fdf', '#c2410c', '#15803d', '#9333ea', '#b45309', '#0e7490', '#be185d', '#4d7c0f'];

/**
 * One colour per persona, by position among the run's agents.
 * @param {number} index
 * @returns {string}
 */
export function personaColour(index) {
  return /** @type {string} */ (PERSONA_COLOURS[((index % PERSONA_COLOURS.length) + PERSONA_COLOURS.length) % PERSONA_COLOURS.length]);
}

const ATTRACTOR_COLOURS = ['#d946ef', '#f59e0b', '#10b981', '#ef4444', '#6366f1', '#14b8a6', '#f97316', '#8b5cf6', '#84cc16', '#ec4899'];
/** @type {Record<string, string>} */
const KNOWN = { 'spiritual-bliss': '#d946ef', 'emoji-collapse': '#f59e0b', 'repetition-loop': '#ef4444', repetition: '#ef4444', 'farewell-loop': '#6366f1', 'wedding-party': '#10b981', silence: '#64748b', 'meta-loop': '#14b8a6' };

/**
 * A stable colour per attractor name, so charts, badges and the grid agree.
 * @param {string} name
 * @returns {string}
 */
export function attractorColour(name) {
  const known = KNOWN[String(name).replaceAll('_', '-')];
  if (known) return known;
  let h = 0;
  for (const ch of String(name)) h = (h * 31 + (ch.codePointAt(0) ?? 0)) >>> 0;
  return /** @type {string} */ (ATTRACTOR_COLOURS[h % ATTRACTOR_COLOURS.length]);
}
