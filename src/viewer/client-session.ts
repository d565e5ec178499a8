import type { Logger } from 'pino';
import { WebSocket, type RawData } from 'ws';
import type { ArenaEvent } from '../runlog/events.js';
import type { FeedRegistry } from './feed-registry.js';
import { parseClientMessage, ServerMessageSchema, type ClientMessage, type ControlCommand, type ErrorCode, type ServerMessage } from './protocol.js';
import type { RunFeed } from './run-feed.js';
import type { RunIndex } from './run-index.js';

/** What a session needs from the server around it. */
export interface SessionDeps {
  index: RunIndex;
  feeds: FeedRegistry;
  /** Constant-time check of a control token. */
  checkToken(token: string | undefined): boolean;
  control(runId: string, command: ControlCommand): Promise<{ ok: true } | { ok: false; code: ErrorCode; message: string }>;
  logger: Logger;
  /** Drop a client whose unsent data exceeds this (it may reconnect and resume). */
  maxBufferedBytes: number;
  /** Events per frame when replaying history. */
  replayBatch: number;
  /** Parse every outgoing message with ServerMessageSchema (tests, debugging). */
  validateOutgoing: boolean;
}

interface Subscription {
  feed: RunFeed;
  sentSeq: number;
  replaying: boolean;
  cancelled: boolean;
  stop: () => void;
}

/** Replay frames stop growing past this size (one event may still be larger). */
const REPLAY_FRAME_BYTES = 1 << 20;

/** Live event frames are the same bytes for every viewer: encode each event once. */
const encoded = new WeakMap<ArenaEvent, string>();

/** One WebSocket connection: its subscriptions, its replies, its flow control. */
export class ClientSession {
  private readonly subs = new Map<string, Subscription>();
  private closed = false;
  /** Messages are handled one after another, so subscribe-then-unsubscribe means what it says. */
  private queue: Promise<void> = Promise.resolve();
  /** Replays in progress: they pace themselves, so their bytes in flight are not the client's fault. */
  private replays = 0;

  constructor(
    private readonly ws: WebSocket,
    private readonly deps: SessionDeps,
  ) {}

  handle(data: RawData, isBinary: boolean): void {
    if (isBinary) {
      this.send({ type: 'error', code: 'bad_message', message: 'binary frames are not part of the protocol; send JSON text' });
      return;
    }
    const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8');
    const parsed = parseClientMessage(text);
    if (!parsed.ok) {
      this.send({ type: 'error', code: 'bad_message', message: parsed.error, ...(parsed.id ? { id: parsed.id } : {}) });
      return;
    }
    const message = parsed.message;
    this.queue = this.queue
      .then(() => (this.closed ? undefined : this.dispatch(message)))
      .catch((err: unknown) => {
        this.deps.logger.error({ err }, 'viewer: message handler failed');
        this.send({ type: 'error', code: 'internal', message: 'internal error', ...(message.id ? { id: message.id } : {}) });
      });
  }

  close(): void {
    this.closed = true;
    for (const runId of [...this.subs.keys()]) this.unsubscribe(runId);
  }

  /** Send a run-list update pushed by the server. */
  push(message: ServerMessage): void {
    this.send(message);
  }

  private async dispatch(msg: ClientMessage): Promise<void> {
    const id = msg.id !== undefined ? { id: msg.id } : {};
    switch (msg.type) {
      case 'ping':
        this.send({ type: 'pong', ...id, ...(msg.t !== undefined ? { t: msg.t } : {}) });
        return;
      case 'list':
        await this.deps.index.scan();
        this.send({ type: 'runs', ...id, runs: this.deps.index.list() });
        return;
      case 'subscribe':
        await Promise.all(msg.runs.map((r) => this.subscribe(r.runId, r.afterSeq, msg.id)));
        return;
      case 'unsubscribe':
        for (const runId of msg.runIds) this.unsubscribe(runId);
        this.send({ type: 'unsubscribed', ...id, runIds: msg.runIds });
        return;
      case 'control': {
        if (!this.deps.checkToken(msg.token)) {
          this.send({ type: 'error', ...id, code: 'unauthorized', message: 'control refused: missing or wrong token (open the URL printed by `arena serve`)' });
          return;
        }
        const result = await this.deps.control(msg.runId, msg.command);
        if (result.ok) this.send({ type: 'ack', ...id, runId: msg.runId, command: msg.command.type });
        else this.send({ type: 'error', ...id, code: result.code, message: result.message });
        return;
      }
      default: {
        const unreachable: never = msg;
        throw new Error(`unhandled message ${JSON.stringify(unreachable)}`);
      }
    }
  }

  private async subscribe(runId: string, afterSeq: number, requestId: string | undefined): Promise<void> {
    this.unsubscribe(runId);
    const feed = await this.deps.feeds.acquire(runId);
    const id = requestId !== undefined ? { id: requestId } : {};
    if (!feed) {
      this.send({ type: 'error', ...id, code: 'unknown_run', message: `no run '${runId}' here` });
      return;
    }
    if (this.closed || this.subs.has(runId)) {
      this.deps.feeds.release(runId, feed);
      return;
    }
    const sub: Subscription = { feed, sentSeq: afterSeq, replaying: true, cancelled: false, stop: () => undefined };
    // Listen first: live events either land in the feed before the replay reads it, or arrive after.
    const unlisten = feed.listen((event) => this.onLive(sub, event));
    sub.stop = () => {
      unlisten();
      this.deps.feeds.release(runId, feed);
    };
    this.subs.set(runId, sub);
    await feed.ready;
    if (sub.cancelled) return;
    this.send({ type: 'subscribed', ...id, runId, afterSeq, lastSeq: feed.lastSeq() });
    // Not awaited: a long history must not hold up this client's other messages.
    this.replay(runId, sub).catch((err: unknown) => this.deps.logger.error({ err, runId }, 'viewer: replay failed'));
  }

  private async replay(runId: string, sub: Subscription): Promise<void> {
    this.replays += 1;
    try {
      for (;;) {
        if (sub.cancelled || this.closed) return;
        const batch = sub.feed.eventsAfter(sub.sentSeq, this.deps.replayBatch);
        if (batch.length === 0) break;
        const parts: string[] = [];
        let bytes = 0;
        for (const event of batch) {
          const part = JSON.stringify(event);
          if (parts.length > 0 && bytes + part.length > REPLAY_FRAME_BYTES) break;
          parts.push(part);
          bytes += part.length;
        }
        const events = batch.slice(0, parts.length);
        if (this.deps.validateOutgoing) ServerMessageSchema.parse({ type: 'events', runId, events });
        this.sendFrame(`{"type":"events","runId":${JSON.stringify(runId)},"events":[${parts.join(',')}]}`);
        sub.sentSeq = events.at(-1)!.seq;
        // History goes out as fast as the client reads it, never faster: a long log must not get it dropped.
        await this.drained();
      }
      const deltas = sub.feed.currentDeltas();
      if (deltas.length > 0) this.send({ type: 'events', runId, events: deltas });
      this.send({ type: 'replayed', runId, lastSeq: sub.sentSeq });
      sub.replaying = false;
    } finally {
      this.replays -= 1;
    }
  }

  private onLive(sub: Subscription, event: ArenaEvent): void {
    if (sub.replaying || sub.cancelled) return;
    if (event.type !== 'turn.delta' && event.type !== 'turn.waiting') {
      if (event.seq <= sub.sentSeq) return;
      sub.sentSeq = event.seq;
    }
    let frame = encoded.get(event);
    if (frame === undefined) {
      const message: ServerMessage = { type: 'events', runId: event.runId, events: [event] };
      if (this.deps.validateOutgoing) ServerMessageSchema.parse(message);
      frame = JSON.stringify(message);
      encoded.set(event, frame);
    }
    this.sendFrame(frame);
  }

  private unsubscribe(runId: string): void {
    const sub = this.subs.get(runId);
    if (!sub) return;
    sub.cancelled = true;
    this.subs.delete(runId);
    sub.stop();
  }

  private drained(): Promise<void> {
    const low = this.deps.maxBufferedBytes / 4;
    if (this.ws.bufferedAmount <= low) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setInterval(() => {
        if (this.closed || this.ws.readyState !== WebSocket.OPEN || this.ws.bufferedAmount <= low) {
          clearInterval(timer);
          resolve();
        }
      }, 10);
    });
  }

  private send(message: ServerMessage): void {
    if (this.deps.validateOutgoing) ServerMessageSchema.parse(message);
    this.sendFrame(JSON.stringify(message));
  }

  private sendFrame(frame: string): void {
    if (this.closed || this.ws.readyState !== WebSocket.OPEN) return;
    const allowance = this.replays > 0 ? REPLAY_FRAME_BYTES * 2 : 0;
    if (this.ws.bufferedAmount > this.deps.maxBufferedBytes + allowance) {
      // A slow or dead client must never hold a run back: drop it; it can reconnect and resume by seq.
      this.deps.logger.warn({ bufferedAmount: this.ws.bufferedAmount }, 'viewer: dropping a client that does not keep up');
      this.closed = true;
      this.ws.terminate();
      return;
    }
    this.ws.send(frame);
  }
}
