// The streamed Ollama call ends every way it can with a coded error and the GenAI error_type, and
// a slow reader is not mistaken for an idle model.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StreamTimeouts, streamOllamaChat } from '../src/index.js';

const line = (o: object) => `${JSON.stringify(o)}\n`;
const chunk = (content: string) => line({ message: { role: 'assistant', content }, done: false });
const DONE = line({ done: true, done_reason: 'stop', eval_count: 2, prompt_eval_count: 1 });

/** Each path is one way a stream can go. */
const routes: Record<string, (res: ServerResponse) => void> = {
  '/status': (res) => res.writeHead(503).end('{"error":"busy"}'),
  '/truncated': (res) => {
    res.writeHead(200);
    res.end(chunk('half'));
  },
  '/garbage': (res) => {
    res.writeHead(200);
    res.end('<html>\n');
  },
  // a steady trickle, each gap under the idle bound, for longer than the total bound
  '/trickle': (res) => {
    res.writeHead(200);
    const t = setInterval(() => res.write(chunk('.')), 50);
    res.on('close', () => clearInterval(t));
  },
  '/ok': (res) => {
    res.writeHead(200);
    res.write(chunk('a'));
    res.write(chunk('b'));
    res.end(DONE);
  },
};

describe('streamOllamaChat', () => {
  let server: Server;
  let base = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const route = routes[req.url ?? ''];
        // a route answers itself (its return value is nothing): only an unknown path gets the 404
        if (route) route(res);
        else res.writeHead(404).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const bounds: StreamTimeouts = { firstChunkMs: 1_000, idleMs: 300, totalMs: 2_000 };
  const call = (
    path: string,
    timeouts = bounds,
    onChunk: (t: string) => unknown = () => {},
    signal?: AbortSignal,
  ) =>
    streamOllamaChat({ endpoint: base + path, headers: {}, model: 'm', prompt: 'p' }, timeouts, {
      onChunk: async (t) => {
        await onChunk(t);
      },
      signal,
    });

  it('reads the chunks and the counters of the last line', async () => {
    const seen: string[] = [];
    const out = await call('/ok', bounds, (t) => seen.push(t));
    expect(seen).toEqual(['a', 'b']);
    expect(out).toMatchObject({
      text: 'ab',
      finishReason: 'stop',
      counters: { evalCount: 2, promptEvalCount: 1 },
    });
  });

  it.each([
    ['/status', 'LLM_ERROR', '503'],
    ['/truncated', 'LLM_ERROR', 'truncated'],
    ['/garbage', 'LLM_ERROR', 'invalid_response'],
  ])('%s fails with %s, error_type %s', async (path, code, errorType) => {
    await expect(call(path)).rejects.toMatchObject({ code, errorType });
  });

  it('a stream that never stops is cut at the total bound, not the idle one', async () => {
    await expect(call('/trickle', { firstChunkMs: 500, idleMs: 300, totalMs: 600 })).rejects.toMatchObject({
      code: 'LLM_TIMEOUT',
      errorType: 'timeout',
    });
  });

  it('a slow reader is back-pressure, not an idle model', async () => {
    const out = await call(
      '/ok',
      { firstChunkMs: 1_000, idleMs: 50, totalMs: 2_000 },
      () => new Promise((r) => setTimeout(r, 150)),
    );
    expect(out.text).toBe('ab');
  });

  it('an aborted signal ends the call as cancelled', async () => {
    const ctl = new AbortController();
    const p = call('/trickle', bounds, () => ctl.abort(), ctl.signal);
    await expect(p).rejects.toMatchObject({ code: 'CLIENT_CLOSED', errorType: 'cancelled' });
  });

  it('a refused connection is LLM_UNREACHABLE, error_type network', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    await expect(
      streamOllamaChat(
        { endpoint: `http://127.0.0.1:${port}/api/chat`, headers: {}, model: 'm', prompt: 'p' },
        bounds,
        {
          onChunk: () => {},
        },
      ),
    ).rejects.toMatchObject({ code: 'LLM_UNREACHABLE', errorType: 'network' });
  });
});
