import { createServer, type Server } from 'node:http';

/** A chat request as the server received it. */
export interface SeenRequest {
  model: string;
  messages: { role: string; content: unknown }[];
}

/**
 * A local server speaking OpenAI's streaming chat-completions wire format. Every request's model and messages
 * are kept; each reply is `Model reply <n>.` in two chunks, then a finish chunk and a usage chunk.
 */
export async function startChatServer() {
  const seen: SeenRequest[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const parsed = JSON.parse(body) as SeenRequest;
      seen.push({ model: parsed.model, messages: parsed.messages });
      const n = seen.length;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const chunk = (delta: object, finish: string | null) =>
        `data: ${JSON.stringify({ id: `c${n}`, object: 'chat.completion.chunk', created: 0, model: parsed.model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      res.write(chunk({ role: 'assistant', content: 'Model ' }, null));
      res.write(chunk({ content: `reply ${n}.` }, null));
      res.write(chunk({}, 'stop'));
      res.write(`data: ${JSON.stringify({ id: `c${n}`, object: 'chat.completion.chunk', created: 0, model: parsed.model, choices: [], usage: { prompt_tokens: 20, completion_tokens: 3 } })}\n\n`);
      res.end('data: [DONE]\n\n');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    seen: () => [...seen],
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
