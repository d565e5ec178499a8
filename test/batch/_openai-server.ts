import { createServer, type Server } from 'node:http';

/**
 * A local server speaking OpenAI's streaming chat-completions wire format: each reply comes after
 * `delayMs`, as two content chunks, a finish chunk and a usage chunk. It counts requests in flight.
 */
export async function startOpenAIServer(options: { delayMs?: number; promptTokens?: number; completionTokens?: number } = {}) {
  let inFlight = 0;
  let maxInFlight = 0;
  let requests = 0;
  /** Each request's path, model and Authorization header, to check which credentials reached the server. */
  const seen: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      requests++;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const model = (JSON.parse(body) as { model?: string }).model ?? 'm';
      seen.push(`${req.url ?? ''} ${model} ${req.headers.authorization ?? ''}`);
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        const chunk = (delta: object, finish: string | null) =>
          `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 0, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
        res.write(chunk({ role: 'assistant', content: 'A calm ' }, null));
        res.write(chunk({ content: `reply ${requests}.` }, null));
        res.write(chunk({}, 'stop'));
        res.write(
          `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 0, model, choices: [], usage: { prompt_tokens: options.promptTokens ?? 100, completion_tokens: options.completionTokens ?? 50 } })}\n\n`,
        );
        res.end('data: [DONE]\n\n');
        inFlight--;
      }, options.delayMs ?? 0);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    stats: () => ({ requests, maxInFlight }),
    seen: () => [...seen],
    resetPeak: () => void (maxInFlight = inFlight),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
