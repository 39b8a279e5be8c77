// A fake Ollama HTTP server for tests: scripted answers per path, streamed NDJSON with scripted
// timings (first chunk after X ms, N chunks every Y ms), errors mid-stream, cut connections, hangs,
// and /api/ps lists. Listens on 127.0.0.1:0; every timer it starts is cleared by close().
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** Ollama's final counters (nanoseconds), as the `done: true` line or a non-streamed answer carries them. */
export interface FakeFinal {
  total_duration?: number;
  load_duration?: number;
  prompt_eval_count?: number;
  prompt_eval_duration?: number;
  eval_count?: number;
  eval_duration?: number;
  [field: string]: unknown;
}

/** A JSON answer (non-streamed, `/api/ps`, `/api/tags`, an HTTP error). */
export interface JsonReply {
  kind: 'json';
  /** @default 200 */
  status?: number;
  body: unknown;
  /** Wait this long before answering. @default 0 */
  delayMs?: number;
}

/** A streamed NDJSON answer in Ollama's shape (`/api/chat` lines with `message`, else `response`). */
export interface StreamReply {
  kind: 'stream';
  /** Delay before the headers and the first chunk. @default 0 */
  firstChunkMs?: number;
  /** Content chunks (lines with `done: false`). @default 3 */
  chunks?: number;
  /** Delay between chunks after the first. @default 0 */
  everyMs?: number;
  /** The final line's counters; `false` sends no final line (the body just ends). @default {} */
  final?: FakeFinal | false;
  /** After this many chunks send `{"error": ...}` and end the body (instead of more chunks). */
  errorAfter?: number;
  /** After this many chunks destroy the connection (a cut body). */
  cutAfter?: number;
  /** After this many chunks stop sending but keep the connection open (a stalled model). */
  hangAfter?: number;
  /** Write every chunk and the final line in one write (several lines per read). @default false */
  oneWrite?: boolean;
}

export type FakeReply = JsonReply | StreamReply;

export interface FakeOllama {
  /** Base URL, `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Requests received, in order (path and parsed JSON body, if any). */
  readonly requests: Array<{ method: string; path: string; body: unknown }>;
  /** Sets the answer of a path (`/api/chat`, `/api/generate`, `/api/embed`, `/api/ps`, ...). */
  reply(path: string, reply: FakeReply): void;
  /** Resolves when a streamed answer's connection closed (finished or cut by either side). */
  streamClosed(): Promise<void>;
  close(): Promise<void>;
}

const line = (path: string, model: string, i: number) =>
  `${JSON.stringify(
    path === '/api/chat'
      ? {
          model,
          created_at: '2026-01-01T00:00:00Z',
          message: { role: 'assistant', content: `tok${i} ` },
          done: false,
        }
      : { model, created_at: '2026-01-01T00:00:00Z', response: `tok${i} `, done: false },
  )}\n`;

const finalLine = (path: string, model: string, final: FakeFinal) =>
  `${JSON.stringify({
    model,
    created_at: '2026-01-01T00:00:00Z',
    ...(path === '/api/chat' ? { message: { role: 'assistant', content: '' } } : { response: '' }),
    done: true,
    done_reason: 'stop',
    ...final,
  })}\n`;

/** Starts a fake Ollama on 127.0.0.1 with an ephemeral port. Unscripted paths answer 404. */
export async function startFakeOllama(): Promise<FakeOllama> {
  const replies = new Map<string, FakeReply>();
  const requests: FakeOllama['requests'] = [];
  const timers = new Set<NodeJS.Timeout>();
  const sockets = new Set<Socket>();
  let closedWaiters: Array<() => void> = [];
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (ms <= 0) return resolve();
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  const stream = async (
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    model: string,
    r: StreamReply,
  ) => {
    res.on('close', () => {
      const w = closedWaiters;
      closedWaiters = [];
      for (const f of w) f();
    });
    await sleep(r.firstChunkMs ?? 0);
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    const n = r.chunks ?? 3;
    const stopAt = Math.min(n, r.errorAfter ?? n, r.cutAfter ?? n, r.hangAfter ?? n);
    let batch = '';
    for (let i = 0; i < stopAt; i++) {
      if (i > 0) await sleep(r.everyMs ?? 0);
      if (res.destroyed) return;
      if (r.oneWrite) batch += line(path, model, i);
      else res.write(line(path, model, i));
    }
    if (r.cutAfter !== undefined && r.cutAfter <= n) {
      if (batch) res.write(batch);
      // a cut body: the chunked encoding never terminates
      await sleep(5);
      req.socket.destroy();
      return;
    }
    if (r.hangAfter !== undefined && r.hangAfter <= n) {
      if (batch) res.write(batch);
      return;
    }
    if (r.errorAfter !== undefined && r.errorAfter <= n) {
      res.end(`${batch}${JSON.stringify({ error: 'model runner has unexpectedly stopped' })}\n`);
      return;
    }
    if (r.final !== false) batch += finalLine(path, model, r.final ?? {});
    res.end(batch);
  };

  const server: Server = createServer((req, res) => {
    res.on('error', () => {});
    const chunks: Buffer[] = [];
    req.on('error', () => {});
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      let body: unknown;
      try {
        body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
      } catch {
        body = undefined;
      }
      requests.push({ method: req.method ?? 'GET', path, body });
      const reply = replies.get(path);
      const model = String((body as { model?: unknown } | undefined)?.model ?? 'fake');
      if (!reply) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: `no reply scripted for ${path}` }));
        return;
      }
      if (reply.kind === 'json') {
        void sleep(reply.delayMs ?? 0).then(() => {
          if (res.destroyed) return;
          res.writeHead(reply.status ?? 200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(reply.body));
        });
        return;
      }
      stream(req, res, path, model, reply).catch(() => res.destroy());
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    reply: (path, r) => void replies.set(path, r),
    streamClosed: () => new Promise<void>((resolve) => closedWaiters.push(resolve)),
    close: async () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
