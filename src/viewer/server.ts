import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { resolve } from 'node:path';
import { pino, type Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import type { RunHandle } from '../arena/run-handle.js';
import { InputError } from '../errors.js';
import { eventsFileOf } from '../runlog/layout.js';
import { ClientSession } from './client-session.js';
import { FeedRegistry } from './feed-registry.js';
import type { RedisRelay, RelayStats } from './redis-relay.js';
import { RelayedRuns } from './relayed-runs.js';
import { PROTOCOL_VERSION, type ControlCommand, type ErrorCode } from './protocol.js';
import { RunIndex } from './run-index.js';
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
  /** How long a live event waits for the run log to supply the events before it (a buffered writer). */
  syncTimeoutMs?: number;
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
  /** Show a run of this process live and let viewers with the token steer it. */
  attach(handle: RunHandle): void;
  /** With `queue`: what arrived on the events channels so far. */
  relayStats(): RelayStats | undefined;
  /** Resolves when a page (any WebSocket client) has connected, at once if one already did. */
  whenClientConnects(): Promise<void>;
  close(): Promise<void>;
}

interface Attached {
  handle: RunHandle;
  unlisten: () => void;
  done: boolean;
}

const FINISHED = new Set(['completed', 'stopped', 'failed', 'interrupted']);
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

export async function startViewer(options: ViewerOptions): Promise<Viewer> {
  const logger = options.logger ?? pino({ level: 'silent' });
  const host = options.host ?? '127.0.0.1';
  const runsDir = resolve(options.runsDir);
  const token = options.token ?? randomBytes(18).toString('base64url');
  const tokenDigest = digest(token);
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const webDir = resolveWebDir();

  const sessions = new Map<WebSocket, ClientSession>();
  let clientConnected!: () => void;
  const firstClient = new Promise<void>((resolveFirst) => (clientConnected = resolveFirst));
  const alive = new WeakMap<WebSocket, boolean>();
  const attached = new Map<string, Attached>();
  const index = new RunIndex(runsDir, logger, (runs) => {
    for (const session of sessions.values()) for (const run of runs) session.push({ type: 'run', run });
  });
  const feeds = new FeedRegistry(index, logger, { pollMs: options.pollMs ?? 500, syncTimeoutMs: options.syncTimeoutMs ?? 5_000 });
  const relayed = new RelayedRuns({
    runsDir,
    index,
    feeds,
    logger,
    isAttached: (runId) => attached.has(runId),
    keepFinished: options.relayKeepFinished ?? 1000,
  });
  let relay: RedisRelay | undefined;

  const control = async (runId: string, command: ControlCommand): Promise<{ ok: true } | { ok: false; code: ErrorCode; message: string }> => {
    const run = attached.get(runId);
    if (!run) {
      if (relayed.has(runId)) {
        return { ok: false, code: 'not_controllable', message: `run '${runId}' runs on a queue worker; it can only be watched here` };
      }
      if (!index.logPathOf(runId)) await index.scan();
      return index.logPathOf(runId)
        ? { ok: false, code: 'not_controllable', message: `run '${runId}' is not running in this viewer's process; it can only be watched` }
        : { ok: false, code: 'unknown_run', message: `no run '${runId}' here` };
    }
    if (run.done || FINISHED.has(run.handle.status())) {
      return { ok: false, code: 'run_finished', message: `run '${runId}' has finished` };
    }
    const by = 'viewer';
    try {
      sendCommand(run.handle, command, by);
    } catch (err) {
      // The run refuses what it cannot do (inject as an agent it does not have); say so to the viewer.
      return { ok: false, code: 'bad_message', message: `run '${runId}' refused ${command.type}: ${err instanceof Error ? err.message : String(err)}` };
    }
    logger.info({ runId, command: command.type }, 'viewer: control command');
    return { ok: true };
  };

  const deps = {
    index,
    feeds,
    logger,
    checkToken: (candidate: string | undefined) => typeof candidate === 'string' && timingSafeEqual(digest(candidate), tokenDigest),
    control,
    maxBufferedBytes: options.maxClientBufferBytes ?? 8 * 1024 * 1024,
    replayBatch: 500,
    validateOutgoing: options.validateOutgoing ?? false,
  };

  // Filled in once the port is known: names this server answers to (against DNS rebinding).
  const hostNames = new Set<string>();
  const loopbackOnly = LOOPBACK.has(host);
  const hostAllowed = (req: IncomingMessage): boolean => hostNames.has((req.headers.host ?? '').toLowerCase());
  // On loopback only this machine's users reach the server, and they may read without the token. Anyone on
  // the network reaches a server bound elsewhere, so there reading (the WebSocket) needs the token as well.
  const readAllowed = (req: IncomingMessage): boolean =>
    loopbackOnly || deps.checkToken(new URL(req.url ?? '/', 'http://viewer.invalid').searchParams.get('token') ?? undefined);

  const server = createServer((req, res) => {
    if (!hostAllowed(req)) {
      res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' }).end('forbidden host\n');
      return;
    }
    serveStatic(req, res, webDir).catch((err: unknown) => {
      logger.error({ err }, 'viewer: static file failed');
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: 256 * 1024 });

  server.on('upgrade', (req, socket, head) => {
    const path = new URL(req.url ?? '/', 'http://viewer.invalid').pathname;
    if (path !== '/ws' || !hostAllowed(req) || !sameOrigin(req)) {
      // Another site's page must not read transcripts through the visitor's browser.
      socket.end('HTTP/1.1 403 Forbidden\r\nconnection: close\r\n\r\n');
      return;
    }
    if (!readAllowed(req)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\ncontent-type: text/plain; charset=utf-8\r\nconnection: close\r\n\r\nthis viewer listens beyond localhost: open the address with ?token= that it printed\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  wss.on('connection', (ws: WebSocket) => {
    const session = new ClientSession(ws, deps);
    sessions.set(ws, session);
    alive.set(ws, true);
    ws.on('pong', () => alive.set(ws, true));
    ws.on('message', (data, isBinary) => session.handle(data, isBinary));
    ws.on('error', (err) => logger.debug({ err }, 'viewer: client socket error'));
    ws.on('close', () => {
      session.close();
      sessions.delete(ws);
    });
    session.push({ type: 'hello', protocol: PROTOCOL_VERSION, heartbeatMs });
    clientConnected();
  });

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
  for (const timer of [heartbeat, scanner, pusher]) timer.unref();

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new InputError(`viewer: cannot listen on ${host}:${options.port ?? 0}: ${err.code ?? err.message}`, { cause: err })),
    );
    server.listen(options.port ?? 0, host, () => resolveListen());
  });
  await index.scan();
  if (options.queue !== undefined) {
    try {
      const { startRedisRelay } = await import('./redis-relay.js');
      relay = await startRedisRelay(options.queue, (batchId, event) => relayed.push(batchId, event), logger);
    } catch (err) {
      for (const timer of [heartbeat, scanner, pusher]) clearInterval(timer);
      await new Promise<void>((done) => server.close(() => done()));
      throw err;
    }
  }
  const port = (server.address() as AddressInfo).port;
  for (const name of ['127.0.0.1', 'localhost', '[::1]', host]) hostNames.add(hostWithPort(name, port));
  if (!loopbackOnly) for (const name of [...machineNames(host), ...(options.allowedHosts ?? [])]) hostNames.add(hostWithPort(name, port));
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const baseUrl = `http://${shownHost}:${port}/`;
  logger.info({ url: baseUrl, runsDir }, 'viewer: listening');

  return {
    url: `${baseUrl}?token=${encodeURIComponent(token)}`,
    baseUrl,
    token,
    port,
    attach(handle: RunHandle): void {
      if (attached.has(handle.runId)) return;
      index.attachLive(handle.runId, handle.runDir, handle.info);
      const feed = feeds.attach(handle, eventsFileOf(handle.runDir));
      const unlisten = feed.listen((event) => index.foldLive(handle.runId, event, handle.status()));
      const run: Attached = { handle, unlisten, done: false };
      attached.set(handle.runId, run);
      const finish = (): void => {
        run.done = true;
        // Let the feed store (and the index fold) the run's last events before it may be let go.
        void feed.settled().then(() => {
          index.setLiveStatus(handle.runId, handle.status());
          index.detachLive(handle.runId);
          feeds.unpin(handle.runId);
        });
      };
      handle.done.then(finish, finish);
    },
    relayStats: () => relay?.stats(),
    whenClientConnects: () => firstClient,
    async close(): Promise<void> {
      clearInterval(heartbeat);
      clearInterval(scanner);
      clearInterval(pusher);
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
    },
  };
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
    default: {
      const unreachable: never = command;
      throw new Error(`unhandled command ${JSON.stringify(unreachable)}`);
    }
  }
}

/** `name:port` as a Host header spells it (IPv6 addresses in brackets), lower-case. */
function hostWithPort(name: string, port: number): string {
  const bare = name.replace(/^\[|\]$/g, '');
  return `${bare.includes(':') ? `[${bare}]` : bare}:${port}`.toLowerCase();
}

/** Names a server bound beyond loopback is reached by: the host name and the interface addresses. */
function machineNames(boundHost: string): string[] {
  const names = [hostname(), `${hostname()}.local`];
  const anyInterface = boundHost === '0.0.0.0' || boundHost === '::';
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (anyInterface || a.address === boundHost) names.push(a.address);
  }
  return names;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Browsers always send Origin on WebSocket upgrades; scripts and CLIs may omit it. */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}
