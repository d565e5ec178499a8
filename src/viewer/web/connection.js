// @ts-check
// The page's WebSocket: reconnects with backoff, resumes every subscription from the last seq the page
// applied, and notices a dead link through an application-level heartbeat.

/** @import { ClientMessage, ServerMessage } from '../protocol.js' */

/** @typedef {'connecting' | 'open' | 'reconnecting'} LinkState */

/**
 * Every message type of the protocol: a type added to ServerMessage fails the type check until it is
 * listed here (and then handled by the page or knowingly ignored).
 * @type {Record<ServerMessage['type'], true>}
 */
const KNOWN = { hello: true, runs: true, run: true, subscribed: true, replayed: true, events: true, unsubscribed: true, pong: true, ack: true, error: true };

/**
 * @param {unknown} value
 * @returns {value is Record<string, unknown>}
 */
const isObject = (value) => typeof value === 'object' && value !== null;

/**
 * Light shape check of a server message (the server's schema is authoritative; this guards the page).
 * @param {unknown} data
 * @returns {data is ServerMessage}
 */
export function checkServerMessage(data) {
  if (!isObject(data) || typeof data.type !== 'string' || !Object.hasOwn(KNOWN, data.type)) return false;
  if (data.type === 'events') {
    return typeof data.runId === 'string' && Array.isArray(data.events) && data.events.every((e) => isObject(e) && typeof e.type === 'string' && Number.isInteger(e.seq));
  }
  if (data.type === 'runs') return Array.isArray(data.runs);
  if (data.type === 'run') return isObject(data.run) && typeof data.run.runId === 'string';
  return true;
}

/**
 * What the page hears from its connection.
 * @typedef {object} ConnectionHooks
 * @property {(message: ServerMessage) => void} onMessage every message that passed checkServerMessage
 * @property {(link: LinkState) => void} onState
 * @property {() => { runId: string, afterSeq: number }[]} resumePoints where to resume each subscription after a reconnect
 */

export class Connection {
  /**
   * @param {string} url ws:// address
   * @param {ConnectionHooks} hooks
   */
  constructor(url, hooks) {
    this.url = url;
    this.hooks = hooks;
    /** @type {WebSocket | null} */
    this.ws = null;
    this.backoffMs = 250;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.timer = undefined;
    /** @type {ReturnType<typeof setInterval> | undefined} */
    this.heartbeat = undefined;
    this.lastHeard = 0;
    this.nextId = 1;
  }

  connect() {
    clearTimeout(this.timer);
    this.hooks.onState('connecting');
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.addEventListener('open', () => {
      this.backoffMs = 250;
      this.lastHeard = Date.now();
      this.hooks.onState('open');
      this.send({ type: 'list' });
      const runs = this.hooks.resumePoints();
      if (runs.length > 0) this.send({ type: 'subscribe', runs });
      this.startHeartbeat();
    });
    ws.addEventListener('message', (ev) => {
      this.lastHeard = Date.now();
      let data;
      try {
        data = JSON.parse(ev.data);
      } catch {
        console.warn('viewer: ignored a frame that is not JSON');
        return;
      }
      if (!checkServerMessage(data)) {
        console.warn('viewer: ignored a message outside the protocol', data && data.type);
        return;
      }
      this.hooks.onMessage(data);
    });
    ws.addEventListener('close', () => {
      if (this.ws === ws) this.lost();
    });
  }

  /** The link is gone (closed, or silent too long): forget this socket and try again after a pause. */
  lost() {
    const ws = this.ws;
    this.ws = null;
    this.stopHeartbeat();
    if (ws && ws.readyState !== WebSocket.CLOSED) ws.close();
    this.hooks.onState('reconnecting');
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), this.backoffMs);
    this.backoffMs = Math.min(this.backoffMs * 2, 4000);
  }

  /**
   * Send a message; returns its id, or null when the socket is not open.
   * @param {ClientMessage} message
   * @returns {string | null}
   */
  send(message) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return null;
    const id = message.id ?? `c${this.nextId++}`;
    this.ws.send(JSON.stringify({ ...message, id }));
    return id;
  }

  startHeartbeat() {
    this.stopHeartbeat();
    this.heartbeat = setInterval(() => {
      // Silence for three intervals means the link is dead even if the socket has not noticed.
      if (Date.now() - this.lastHeard > 30_000) {
        this.lost();
        return;
      }
      this.send({ type: 'ping', t: Date.now() });
    }, 10_000);
  }

  stopHeartbeat() {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }
}
