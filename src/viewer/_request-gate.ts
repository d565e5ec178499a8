import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { hostname, networkInterfaces } from 'node:os';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/**
 * Who may reach the server. Only requests naming this server in their Host header get through (against
 * DNS rebinding); WebSocket upgrades must also come from its own pages, and off loopback carry the token.
 */
export class RequestGate {
  /** Filled in once the port is known. */
  private readonly names = new Set<string>();
  private readonly loopbackOnly: boolean;

  constructor(
    private readonly host: string,
    private readonly checkToken: (candidate: string | undefined) => boolean,
  ) {
    this.loopbackOnly = LOOPBACK.has(host);
  }

  /** The loopback names, the bound host, and off loopback this machine's names and `extra`, all with `port`. */
  admitNames(port: number, extra: readonly string[]): void {
    for (const name of ['127.0.0.1', 'localhost', '[::1]', this.host]) this.names.add(hostWithPort(name, port));
    if (!this.loopbackOnly) for (const name of [...machineNames(this.host), ...extra]) this.names.add(hostWithPort(name, port));
  }

  hostAllowed(req: IncomingMessage): boolean {
    return this.names.has((req.headers.host ?? '').toLowerCase());
  }

  /** The raw HTTP response refusing a WebSocket upgrade, or undefined to accept it. */
  refuseUpgrade(req: IncomingMessage): string | undefined {
    const path = new URL(req.url ?? '/', 'http://viewer.invalid').pathname;
    if (path !== '/ws' || !this.hostAllowed(req) || !sameOrigin(req)) {
      // Another site's page must not read transcripts through the visitor's browser.
      return 'HTTP/1.1 403 Forbidden\r\nconnection: close\r\n\r\n';
    }
    if (!this.readAllowed(req)) {
      return 'HTTP/1.1 401 Unauthorized\r\ncontent-type: text/plain; charset=utf-8\r\nconnection: close\r\n\r\nthis viewer listens beyond localhost: open the address with ?token= that it printed\n';
    }
    return undefined;
  }

  /**
   * On loopback only this machine's users reach the server, and they may read without the token. Anyone on
   * the network reaches a server bound elsewhere, so there reading (the WebSocket) needs the token as well.
   */
  private readAllowed(req: IncomingMessage): boolean {
    return this.loopbackOnly || this.checkToken(new URL(req.url ?? '/', 'http://viewer.invalid').searchParams.get('token') ?? undefined);
  }
}

/** Constant-time comparison of a candidate with the control token. */
export function tokenChecker(token: string): (candidate: string | undefined) => boolean {
  const expected = digest(token);
  return (candidate) => typeof candidate === 'string' && timingSafeEqual(digest(candidate), expected);
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
