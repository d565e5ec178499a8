import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterEach } from 'vitest';

/** A request as the proxy received it: `POST http://host:port/path` (absolute URI) or `CONNECT host:port`. */
export interface ProxiedRequest {
  method: string;
  target: string;
  /** The Proxy-Authorization header, decoded from Basic to `user:password`. */
  credentials: string | undefined;
}

export interface TestProxy {
  /** `http://127.0.0.1:port`, with `user:password@` when the proxy asks for them. */
  url: string;
  requests: ProxiedRequest[];
}

function credentialsOf(req: IncomingMessage): string | undefined {
  const header = req.headers['proxy-authorization'];
  const m = typeof header === 'string' ? /^Basic\s+(\S+)$/iu.exec(header) : null;
  return m ? Buffer.from(m[1]!, 'base64').toString('utf8') : undefined;
}

/**
 * A forward proxy on 127.0.0.1, port 0, as institutions run them: absolute-URI requests for http URLs
 * are sent on to the server, CONNECT opens a tunnel (for https). With `credentials` ("user:password")
 * any other request gets 407. Closed after the current test.
 */
export async function testProxy(options: { credentials?: string } = {}): Promise<TestProxy> {
  const requests: ProxiedRequest[] = [];
  const sockets = new Set<Socket>();
  const allowed = (req: IncomingMessage) => options.credentials === undefined || credentialsOf(req) === options.credentials;

  const server: Server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', target: req.url ?? '', credentials: credentialsOf(req) });
    if (!allowed(req)) return void res.writeHead(407, { 'proxy-authenticate': 'Basic realm="test"' }).end();
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      return void res.writeHead(400).end('absolute URI expected');
    }
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const upstream = request(target, { method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => (res.headersSent ? res.destroy() : res.writeHead(502).end('upstream unreachable')));
    req.pipe(upstream);
  });
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    requests.push({ method: 'CONNECT', target: req.url ?? '', credentials: credentialsOf(req) });
    if (!allowed(req)) return void client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\n\r\n');
    const [host, port] = (req.url ?? '').split(/:(?=\d+$)/u);
    const upstream = connect(Number(port), host!, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n'));
    client.on('error', () => upstream.destroy());
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  afterEach(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const { port } = server.address() as AddressInfo;
  return { url: `http://${options.credentials ? `${options.credentials}@` : ''}127.0.0.1:${port}`, requests };
}
