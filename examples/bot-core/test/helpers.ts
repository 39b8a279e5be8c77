import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';

export interface StartedController {
  url: string;
  close(): Promise<void>;
}
export type StartController = (options: {
  port: number;
  env: NodeJS.ProcessEnv;
}) => Promise<StartedController>;

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export const uniqueSchema = (name: string) => `ex_${name}_${randomBytes(4).toString('hex')}`;

export interface JsonResponse {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
  body: any;
  headers: Headers;
}

export async function json(url: string, init: RequestInit & { body?: string } = {}): Promise<JsonResponse> {
  const res = await fetch(url, {
    ...init,
    headers: init.body === undefined ? init.headers : { 'content-type': 'application/json', ...init.headers },
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  // biome-ignore lint/suspicious/noExplicitAny: parsed JSON
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, body, headers: res.headers };
}

export const post = (url: string, body?: unknown): Promise<JsonResponse> =>
  json(url, { method: 'POST', body: body === undefined ? undefined : JSON.stringify(body) });

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

/** Value of one series in a Prometheus text exposition (undefined when absent). */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelPart = line.slice(name.length).match(/^\{([^}]*)\}/)?.[1] ?? '';
    if (Object.entries(labels).every(([k, v]) => labelPart.includes(`${k}="${v}"`))) {
      return Number(
        line
          .slice(line.lastIndexOf('}') + 1)
          .trim()
          .split(' ')[0] ?? line.split(' ')[1],
      );
    }
  }
  return undefined;
}

/** The `METRICS_TOKEN` the controller suites set; `metricsText` sends it (an open /metrics ignores it). */
export const TEST_METRICS_TOKEN = 'metrics-token';

/** `/metrics` as text 0.0.4, or as OpenMetrics (the only format that carries exemplars). */
export async function metricsText(url: string, format: 'text' | 'openmetrics' = 'text') {
  const accept =
    format === 'openmetrics' ? 'application/openmetrics-text;version=1.0.0' : 'text/plain;version=0.0.4';
  const res = await fetch(`${url}/metrics`, {
    headers: { accept, authorization: `Bearer ${TEST_METRICS_TOKEN}` },
    signal: AbortSignal.timeout(10_000),
  });
  return res.text();
}

/**
 * How the fake answers `POST /api/chat` (streamed): `chunks` (default: the words of
 * `fake answer to: <prompt>`), `gapMs` between lines, and what goes wrong: `error-mid` sends an
 * `{"error"}` line after `failAfter` chunks, `stall-mid` sends nothing more after `failAfter`
 * chunks (a partition: the connection stays open), `stall-headers` never answers at all.
 */
export interface FakeChatScript {
  chunks?: string[];
  gapMs?: number;
  fault?: 'error-mid' | 'stall-mid' | 'stall-headers';
  failAfter?: number;
}

/** Ollama's counters on the fake's last line (durations in ns; load 1.5 s: a cold start). */
export const FAKE_CHAT_COUNTERS = {
  total_duration: 2_000_000_000,
  load_duration: 1_500_000_000,
  prompt_eval_count: 7,
  prompt_eval_duration: 70_000_000,
  eval_count: 5,
  eval_duration: 250_000_000,
};

/** An Ollama-like server: /api/generate, /api/chat (streamed, scripted by `state.chat`), /api/ps (one resident model) and /api/tags; `failing` makes it answer 500. */
export async function startFakeOllama(auth?: { user: string; password: string }) {
  const state = {
    failing: false,
    calls: 0,
    unauthorized: 0,
    chat: {} as FakeChatScript,
    /** Streamed chats started, and those whose connection closed before the fake finished them. */
    chatCalls: 0,
    chatAborted: 0,
    /** Streamed chats whose response is still open. */
    chatOpen: 0,
  };
  const expected = auth && `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}`;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (expected && req.headers.authorization !== expected) {
        state.unauthorized++;
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthorized"}');
        return;
      }
      if (state.failing) {
        res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"boom"}');
        return;
      }
      if (req.url === '/api/tags') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"models":[{"name":"tiny:latest"}]}');
        return;
      }
      if (req.url === '/api/ps') {
        const expires = new Date(Date.now() + 300_000).toISOString();
        const models = [
          {
            name: 'tiny:latest',
            model: 'tiny:latest',
            size: 2_000_000,
            size_vram: 1_500_000,
            expires_at: expires,
          },
        ];
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ models }));
        return;
      }
      if (req.url === '/api/version') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"version":"0.0.0-test"}');
        return;
      }
      if (req.url === '/api/generate' && req.method === 'POST') {
        state.calls++;
        const { prompt, model } = JSON.parse(body) as { prompt: string; model: string };
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            model,
            response: `fake answer to: ${prompt}`,
            done: true,
            prompt_eval_count: 7,
            eval_count: 5,
          }),
        );
        return;
      }
      if (req.url === '/api/chat' && req.method === 'POST') {
        fakeChat(JSON.parse(body), state, res);
        return;
      }
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const url = auth
    ? `http://${encodeURIComponent(auth.user)}:${encodeURIComponent(auth.password)}@127.0.0.1:${port}`
    : `http://127.0.0.1:${port}`;
  return {
    url,
    port,
    state,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

function fakeChat(
  request: { model: string; messages: Array<{ content: string }> },
  state: { chat: FakeChatScript; chatCalls: number; chatAborted: number; chatOpen: number },
  res: ServerResponse,
) {
  const script = state.chat;
  state.chatCalls++;
  state.chatOpen++;
  let ended = false;
  const timers = new Set<NodeJS.Timeout>();
  res.on('close', () => {
    state.chatOpen--;
    if (!ended) state.chatAborted++;
    for (const t of timers) clearTimeout(t);
  });
  res.on('error', () => {});
  if (script.fault === 'stall-headers') return;
  const prompt = request.messages.at(-1)?.content ?? '';
  const chunks = script.chunks ?? `fake answer to: ${prompt}`.split(' ').map((w, i) => (i ? ` ${w}` : w));
  const failAfter = script.fault ? (script.failAfter ?? 1) : chunks.length;
  const line = (o: object) =>
    `${JSON.stringify({ model: request.model, created_at: new Date().toISOString(), ...o })}\n`;
  res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  let i = 0;
  const next = () => {
    if (i < Math.min(failAfter, chunks.length)) {
      res.write(line({ message: { role: 'assistant', content: chunks[i++] }, done: false }));
    } else if (script.fault === 'stall-mid') {
      return; // the connection stays open, nothing more comes
    } else {
      ended = true;
      if (script.fault === 'error-mid') res.end(`${JSON.stringify({ error: 'model runner crashed' })}\n`);
      else
        res.end(
          line({
            message: { role: 'assistant', content: '' },
            done: true,
            done_reason: 'stop',
            ...FAKE_CHAT_COUNTERS,
          }),
        );
      return;
    }
    const t = setTimeout(() => {
      timers.delete(t);
      next();
    }, script.gapMs ?? 5);
    timers.add(t);
  };
  next();
}

/** A TCP proxy to PostgreSQL that a test can cut and restore on the same port (a database outage). */
export async function startTcpProxy(target: { host: string; port: number }) {
  let server: net.Server | undefined;
  const sockets = new Set<net.Socket>();
  let port = 0;
  const listen = async () => {
    server = net.createServer((client) => {
      const upstream = net.connect(target.port, target.host);
      sockets.add(client).add(upstream);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((r) => server!.listen(port, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  };
  await listen();
  return {
    get port() {
      return port;
    },
    async cut() {
      const s = server;
      server = undefined;
      for (const sock of sockets) sock.destroy();
      sockets.clear();
      await new Promise<void>((r) => (s ? s.close(() => r()) : r()));
    },
    restore: listen,
    close: async function close() {
      await this.cut();
    },
  };
}

export async function dropSchema(schema: string) {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

export async function deleteRedisKeys(prefix: string) {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}

/** A fresh directory for a controller's task journal (JOURNAL_DIR); `remove()` deletes it. */
export function tempJournalDir() {
  const dir = mkdtempSync(join(tmpdir(), 'deia-journal-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
