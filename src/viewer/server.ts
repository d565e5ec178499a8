import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { pino, type Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import type { RunHandle } from '../arena/run-handle.js';
import { InputError } from '../errors.js';
import { eventsFileOf } from '../runlog/layout.js';
import { ClientSession, type SessionDeps } from './client-session.js';
import { FeedRegistry } from './feed-registry.js';
import type { RedisRelay, RelayStats } from './redis-relay.js';
import { RelayedRuns } from './relayed-runs.js';
import { PROTOCOL_VERSION, type ControlCommand, type ErrorCode } from './protocol.js';
import { RunIndex } from './run-index.js';
import { RequestGate, tokenChecker } from './_request-gate.js';
import { resolveWebDir, serveStatic } from './_static.js';

export interface ViewerOptions {
  /** Folder searched (at any depth) for events.jsonl of runs not attached to this process. */
  runsDir: string;
  /** Interface to bind; 127.0.0.1 unless asked otherwise. */
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Control token; a random one when absent. */
  token?: string;
  logger?: Logger;
  /** WebSocket ping interval; a client that misses one pong is dropped. */
  heartbeatMs?: number;
  /** Unsent bytes a client may have queued before it is dropped. */
  maxClientBufferBytes?: number;
  /** Poll interval when following logs of other processes (fs.watch does the prompt part). */
  pollMs?: number;
  /** How often the runs dir is scanned for new or changed runs while viewers are connected. */
  scanIntervalMs?: number;
  /** How often run-list changes are pushed. */
  pushIntervalMs?: number;
  /** Check every outgoing message against the protocol schema (tests). */
  validateOutgoing?: boolean;
  /**
   * `redis://host:port`: also show the runs of queue workers live, from the events they publish on
   * `arena:batch:<batchId>:events`. Redis is only loaded when this is set.
   */
  queue?: string;
  /** Finished relayed runs whose log this machine cannot read are kept in memory up to this many (default 1000). */
  relayKeepFinished?: number;
  /**
   * Off loopback: more names (DNS names, a reverse proxy's host) the server answers to, besides this machine's
   * host name and interface addresses. On loopback only the loopback names are ever accepted.
   */
  allowedHosts?: readonly string[];
}

/** A running viewer server. */
export interface Viewer {
  /** The address to open, with `?token=` so the page can send control messages. */
  url: string;
  /** The address without the token (read-only viewing). */
  baseUrl: string;
  token: string;
  port: number;
  /**
   * Show a run of this process live and let viewers with the token steer it. A run started with keepEvents
   * is shown from its memory alone; one without has its log read for what it cannot replay.
   */
  attach(handle: RunHandle): void;
  /** With `queue`: what arrived on the events channels so far. */
  relayStats(): RelayStats | undefined;
  /** Resolves when a page (any WebSocket client) has connected, at once if one already did. */
  whenClientConnects(): Promise<void>;
  close(): Promise<void>;
}

/** A run of this process shown by the viewer. */
interface AttachedRun {
  handle: RunHandle;
  unlisten: () => void;
  done: boolean;
}

const FINISHED = new Set(['completed', 'stopped', 'failed', 'interrupted']);

type ControlResult = { ok: true } | { ok: false; code: ErrorCode; message: string };

export async function startViewer(options: ViewerOptions): Promise<Viewer> {
  const logger = options.logger ?? pino({ level: 'silent' });
  const host = options.host ?? '127.0.0.1';
  const runsDir = resolve(options.runsDir);
  const token = options.token ?? randomBytes(18).toString('base64url');
  const heartbeatMs = options.heartbeatMs ?? 15_000;

  const sessions = new Map<WebSocket, ClientSession>();
  /** Clients that answered the last ping (the heartbeat drops the others). */
  const alive = new WeakMap<WebSocket, boolean>();
  const attached = new Map<string, AttachedRun>();
  const index = new RunIndex(runsDir, logger, (runs) => {
    for (const session of sessions.values()) for (const run of runs) session.push({ type: 'run', run });
  });
  const feeds = new FeedRegistry(index, logger, options.pollMs ?? 500);
  const relayed = new RelayedRuns({
    runsDir,
    index,
    feeds,
    logger,
    isAttached: (runId) => attached.has(runId),
    keepFinished: options.relayKeepFinished ?? 1000,
  });
  const deps: SessionDeps = {
    index,
    feeds,
    logger,
    checkToken: tokenChecker(token),
    control: (runId, command) => controlRun(runId, command, { attached, relayed, index, logger }),
    maxBufferedBytes: options.maxClientBufferBytes ?? 8 * 1024 * 1024,
    replayBatch: 500,
    validateOutgoing: options.validateOutgoing ?? false,
  };

  const access = new RequestGate(host, deps.checkToken);
  const webDir = resolveWebDir();
  const server = createServer((req, res) => serveFile(req, res, { access, webDir, logger }));
  const wss = new WebSocketServer({ noServer: true, maxPayload: 256 * 1024 });
  server.on('upgrade', (req, socket, head) => {
    const refusal = access.refuseUpgrade(req);
    if (refusal !== undefined) socket.end(refusal);
    else wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  const firstClient = acceptClients(wss, { sessions, alive, deps, heartbeatMs });
  const timers = startTimers(options, { sessions, alive, index, attached, heartbeatMs, logger });

  let relay: RedisRelay | undefined;
  try {
    await listen(server, host, options.port ?? 0);
    await index.scan();
    if (options.queue !== undefined) {
      const { startRedisRelay } = await import('./redis-relay.js');
      relay = await startRedisRelay(options.queue, (batchId, event) => relayed.push(batchId, event), logger);
    }
  } catch (err) {
    for (const timer of timers) clearInterval(timer);
    if (server.listening) await new Promise<void>((done) => server.close(() => done()));
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  access.admitNames(port, options.allowedHosts ?? []);
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const baseUrl = `http://${shownHost}:${port}/`;
  logger.info({ url: baseUrl, runsDir }, 'viewer: listening');

  return {
    url: `${baseUrl}?token=${encodeURIComponent(token)}`,
    baseUrl,
    token,
    port,
    attach: (handle) => attachRun(handle, { attached, index, feeds }),
    relayStats: () => relay?.stats(),
    whenClientConnects: () => firstClient,
    close: () => shutDown({ timers, relay, relayed, attached, sessions, feeds, wss, server }),
  };
}

/**
 * Show a run of this process: listed as live, its feed pinned while it runs (from the handle's kept
 * events, or its log when it keeps none), steerable with the token. Once it ends, the feed goes when
 * nobody watches it and the log is the run's source again.
 */
function attachRun(handle: RunHandle, ctx: { attached: Map<string, AttachedRun>; index: RunIndex; feeds: FeedRegistry }): void {
  const { attached, index, feeds } = ctx;
  if (attached.has(handle.runId)) return;
  index.attachLive(handle.runId, handle.runDir, handle.info);
  const feed = feeds.attach(handle, { logPath: eventsFileOf(handle.runDir) });
  // The kept history is in the feed already: the list folds it first, then each live event.
  const unlisten = feed.listen((event) => index.foldLive(handle.runId, event, handle.status()), { fromStart: true });
  const run: AttachedRun = { handle, unlisten, done: false };
  attached.set(handle.runId, run);
  const finish = (): void => {
    run.done = true;
    // Let the feed store (and the index fold) the run's last events before it may be let go.
    void feed.caughtUp(handle.lastSeq()).then(() => {
      index.setLiveStatus(handle.runId, handle.status());
      index.detachLive(handle.runId);
      feeds.unpin(handle.runId);
    });
  };
  handle.done.then(finish, finish);
}

/** Stop everything the viewer started: timers, the relay, client connections, feeds (and their log tails), the server. */
async function shutDown(parts: {
  timers: NodeJS.Timeout[];
  relay: RedisRelay | undefined;
  relayed: RelayedRuns;
  attached: Map<string, AttachedRun>;
  sessions: Map<WebSocket, ClientSession>;
  feeds: FeedRegistry;
  wss: WebSocketServer;
  server: Server;
}): Promise<void> {
  const { timers, relay, relayed, attached, sessions, feeds, wss, server } = parts;
  for (const timer of timers) clearInterval(timer);
  await relay?.close();
  relayed.close();
  for (const run of attached.values()) run.unlisten();
  for (const [ws, session] of sessions) {
    session.close();
    ws.terminate();
  }
  sessions.clear();
  feeds.closeAll();
  await new Promise<void>((done) => wss.close(() => done()));
  await new Promise<void>((done) => {
    server.close(() => done());
    // Keep-alive or half-open connections (a page reconnecting while we shut down) would hold close open.
    server.closeAllConnections();
  });
}

/** A control message from a page: passed to the run if it is one of this process and still going. */
async function controlRun(
  runId: string,
  command: ControlCommand,
  ctx: { attached: Map<string, AttachedRun>; relayed: RelayedRuns; index: RunIndex; logger: Logger },
): Promise<ControlResult> {
  const run = ctx.attached.get(runId);
  if (!run) {
    if (ctx.relayed.has(runId)) {
      return { ok: false, code: 'not_controllable', message: `run '${runId}' runs on a queue worker; it can only be watched here` };
    }
    if (!ctx.index.logPathOf(runId)) await ctx.index.scan();
    return ctx.index.logPathOf(runId)
      ? { ok: false, code: 'not_controllable', message: `run '${runId}' is not running in this viewer's process; it can only be watched` }
      : { ok: false, code: 'unknown_run', message: `no run '${runId}' here` };
  }
  if (run.done || FINISHED.has(run.handle.status())) {
    return { ok: false, code: 'run_finished', message: `run '${runId}' has finished` };
  }
  try {
    sendCommand(run.handle, command, 'viewer');
  } catch (err) {
    // The run refuses what it cannot do (inject as an agent it does not have); say so to the viewer.
    return { ok: false, code: 'bad_message', message: `run '${runId}' refused ${command.type}: ${err instanceof Error ? err.message : String(err)}` };
  }
  ctx.logger.info({ runId, command: command.type }, 'viewer: control command');
  return { ok: true };
}

/** The browser app's files, to requests that name this server. */
function serveFile(req: IncomingMessage, res: ServerResponse, ctx: { access: RequestGate; webDir: string; logger: Logger }): void {
  const { access, webDir, logger } = ctx;
  if (!access.hostAllowed(req)) {
    res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' }).end('forbidden host\n');
    return;
  }
  serveStatic(req, res, webDir).catch((err: unknown) => {
    logger.error({ err }, 'viewer: static file failed');
    if (!res.headersSent) res.writeHead(500).end();
  });
}

/** Give every WebSocket connection its session; resolves when the first one connects. */
function acceptClients(
  wss: WebSocketServer,
  ctx: { sessions: Map<WebSocket, ClientSession>; alive: WeakMap<WebSocket, boolean>; deps: SessionDeps; heartbeatMs: number },
): Promise<void> {
  const { sessions, alive, deps, heartbeatMs } = ctx;
  return new Promise<void>((firstConnected) => {
    wss.on('connection', (ws: WebSocket) => {
      const session = new ClientSession(ws, deps);
      sessions.set(ws, session);
      alive.set(ws, true);
      ws.on('pong', () => alive.set(ws, true));
      ws.on('message', (data, isBinary) => session.handle(data, isBinary));
      ws.on('error', (err) => deps.logger.debug({ err }, 'viewer: client socket error'));
      ws.on('close', () => {
        session.close();
        sessions.delete(ws);
      });
      session.push({ type: 'hello', protocol: PROTOCOL_VERSION, heartbeatMs });
      firstConnected();
    });
  });
}

/**
 * The server's rounds: ping clients (dropping those that missed a pong), rescan the runs dir while anyone
 * watches, and push run-list changes (with the live runs' own status) at most every pushIntervalMs.
 */
function startTimers(
  options: ViewerOptions,
  ctx: {
    sessions: Map<WebSocket, ClientSession>;
    alive: WeakMap<WebSocket, boolean>;
    index: RunIndex;
    attached: Map<string, AttachedRun>;
    heartbeatMs: number;
    logger: Logger;
  },
): NodeJS.Timeout[] {
  const { sessions, alive, index, attached, heartbeatMs, logger } = ctx;
  const heartbeat = setInterval(() => {
    for (const ws of sessions.keys()) {
      if (!alive.get(ws)) {
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }, heartbeatMs);
  const scanner = setInterval(() => {
    if (sessions.size > 0) index.scan().catch((err: unknown) => logger.warn({ err }, 'viewer: scan failed'));
  }, options.scanIntervalMs ?? 2_000);
  const pusher = setInterval(() => {
    for (const [runId, run] of attached) if (!run.done) index.setLiveStatus(runId, run.handle.status());
    index.flush();
  }, options.pushIntervalMs ?? 200);
  const timers = [heartbeat, scanner, pusher];
  for (const timer of timers) timer.unref();
  return timers;
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise<void>((listening, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new InputError(`viewer: cannot listen on ${host}:${port}: ${err.code ?? err.message}`, { cause: err })),
    );
    server.listen(port, host, () => listening());
  });
}

function sendCommand(handle: RunHandle, command: ControlCommand, by: string): void {
  switch (command.type) {
    case 'pause':
    case 'resume':
      handle.send({ type: command.type, by });
      return;
    case 'stop':
      handle.send({ type: 'stop', by, ...(command.reason ? { reason: command.reason } : {}) });
      return;
    case 'inject':
      handle.send({ type: 'inject', by, text: command.text, ...(command.as ? { as: command.as } : {}) });
      return;
    case 'prefill':
      handle.send({ type: 'prefill', by, text: command.text, ...(command.agentId ? { agentId: command.agentId } : {}) });
      return;
    default: {
      const unreachable: never = command;
      throw new Error(`unhandled command ${JSON.stringify(unreachable)}`);
    }
  }
}
