import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createHealth, type Health, httpCheck, ollamaCheck } from '../src/index.js';
import { closedPort, get, httpServer, timedAgainst } from './helpers.js';

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});
const health = (...args: Parameters<typeof createHealth>): Health => {
  const h = createHealth(...args);
  cleanup.push(() => h.close());
  return h;
};

/** Answers like Ollama; `mode` switches faults on. */
async function fakeOllama() {
  const state = { mode: 'ok' as 'ok' | 'error' | 'slow', delayMs: 0, requests: [] as string[], aborted: 0 };
  const srv = await httpServer((req: IncomingMessage, res: ServerResponse) => {
    state.requests.push(req.url ?? '');
    res.on('close', () => {
      if (!res.writableEnded) state.aborted++;
    });
    const send = () => {
      if (state.mode === 'error') {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end('{"error":"model runner crashed at /home/ollama/.ollama"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      if (req.url === '/api/tags') {
        res.end(
          JSON.stringify({
            models: [
              { name: 'llama3:latest', model: 'llama3:latest', size: 1 },
              { name: 'nomic-embed-text:v1.5', model: 'nomic-embed-text:v1.5', size: 1 },
            ],
          }),
        );
      } else if (req.url === '/api/version') res.end('{"version":"0.5.7"}');
      else {
        res.writeHead(404);
        res.end();
      }
    };
    if (state.mode === 'slow') setTimeout(send, state.delayMs);
    else send();
  });
  cleanup.push(() => srv.close());
  return { ...srv, state };
}

describe('ollamaCheck against a fake Ollama on loopback', () => {
  it('passes with version, model count and required models present', async () => {
    const ollama = await fakeOllama();
    const h = health({
      detail: 'full',
      checks: { ollama: ollamaCheck({ url: ollama.url, models: ['llama3', 'nomic-embed-text:v1.5'] }) },
    });
    const body = JSON.parse((await get(h, '/health/detailed')).body);
    expect(body.services.ollama).toBe('healthy');
    expect(body.checks.ollama).toMatchObject({
      status: 'healthy',
      version: '0.5.7',
      models_available: 2,
      models_missing: [],
    });
    expect(body.checks.ollama.url).toBeUndefined();
    expect(JSON.stringify(body)).not.toMatch(/127\.0\.0\.1/);
    expect(ollama.state.requests.sort()).toEqual(['/api/tags', '/api/version']);
  });

  it('shows the url only with exposeHostnames', async () => {
    const ollama = await fakeOllama();
    const h = health({
      detail: 'full',
      exposeHostnames: true,
      checks: { ollama: ollamaCheck({ url: ollama.url }) },
    });
    expect(JSON.parse((await get(h, '/health/detailed')).body).checks.ollama.url).toBe(`${ollama.url}/`);
  });

  it('credentials in the url go to a Basic Authorization header; a path prefix is kept; neither is shown', async () => {
    const seen: Array<{ url?: string; auth?: string }> = [];
    const srv = await httpServer((req, res) => {
      seen.push({ url: req.url, auth: req.headers.authorization });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(req.url?.endsWith('/api/tags') ? '{"models":[]}' : '{"version":"0.5.7"}');
    });
    cleanup.push(() => srv.close());
    const withCreds = srv.url.replace('http://', 'http://ops:s%40cret@');
    const h = health({
      detail: 'full',
      exposeHostnames: true,
      checks: { ollama: ollamaCheck({ url: `${withCreds}/ollama` }) },
    });
    const res = await get(h, '/health/detailed');
    const body = JSON.parse(res.body);
    expect(body.checks.ollama.status).toBe('healthy');
    expect(seen.map((r) => r.url).sort()).toEqual(['/ollama/api/tags', '/ollama/api/version']);
    const basic = `Basic ${Buffer.from('ops:s@cret').toString('base64')}`;
    expect(seen.every((r) => r.auth === basic)).toBe(true);
    expect(body.checks.ollama.url).toBe(`${srv.url}/ollama/`);
    expect(res.body).not.toMatch(/cret|ops:/);
  });

  it('missing model: fails (non-critical: the service is degraded)', async () => {
    const ollama = await fakeOllama();
    const h = health({
      detail: 'full',
      checks: { ollama: ollamaCheck({ url: ollama.url, models: ['mistral'] }) },
    });
    const res = await get(h, '/health/detailed');
    expect(res.statusCode).toBe(200);
    const body = JSON.parse(res.body);
    expect(body.status).toBe('degraded');
    expect(body.checks.ollama).toMatchObject({
      status: 'unhealthy',
      message: 'missing models: mistral',
      models_missing: ['mistral'],
    });
  });

  it('answering 500: fails with "error HTTP_500", the body is not shown', async () => {
    const ollama = await fakeOllama();
    ollama.state.mode = 'error';
    const h = health({ detail: 'full', checks: { ollama: ollamaCheck({ url: ollama.url }) } });
    const res = await get(h, '/health/detailed');
    const body = JSON.parse(res.body);
    expect(body.checks.ollama.status).toBe('unhealthy');
    expect(body.checks.ollama.message).toBe('error HTTP_500');
    expect(res.body).not.toMatch(/ollama\/|crashed/);
  });

  it('answering slowly: timeout within 10%, the request is aborted', async () => {
    const ollama = await fakeOllama();
    ollama.state.mode = 'slow';
    ollama.state.delayMs = 5000;
    const h = health({
      detail: 'full',
      checks: { ollama: ollamaCheck({ url: ollama.url, timeoutMs: 1000 }) },
    });
    const { value: res, ms, lateMs } = await timedAgainst(1000, () => get(h, '/health/detailed'));
    expect(ms).toBeGreaterThanOrEqual(995);
    expect(ms).toBeLessThan(1100 + lateMs);
    expect(JSON.parse(res.body).checks.ollama.message).toBe('timed out after 1000 ms');
    // both fetches were aborted: the server saw the client go away before it answered
    await expect.poll(() => ollama.state.aborted, { timeout: 5000 }).toBe(2);
  });

  it('slow but within the timeout: passes with the measured latency', async () => {
    const ollama = await fakeOllama();
    ollama.state.mode = 'slow';
    ollama.state.delayMs = 150;
    const h = health({ detail: 'full', checks: { ollama: ollamaCheck({ url: ollama.url }) } });
    const body = JSON.parse((await get(h, '/health/detailed')).body);
    expect(body.checks.ollama.status).toBe('healthy');
    expect(body.checks.ollama.latency_ms).toBeGreaterThanOrEqual(145);
  });

  it('refused: fails with "connection refused"', async () => {
    const port = await closedPort();
    const h = health({
      detail: 'full',
      checks: { ollama: ollamaCheck({ url: `http://127.0.0.1:${port}` }) },
    });
    const body = JSON.parse((await get(h, '/health/detailed')).body);
    expect(body.checks.ollama.message).toBe('connection refused');
  });

  it('url undefined: not_configured, never failing, no request, no metric', async () => {
    const recorded: string[] = [];
    const h = health({
      detail: 'full',
      metrics: { recordHealthCheck: (name) => void recorded.push(name) },
      checks: { ollama: ollamaCheck({ url: undefined }) },
    });
    const res = await get(h, '/health/detailed');
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ status: 'healthy', services: { ollama: 'not_configured' } });
    expect(recorded).toEqual([]);
  });

  it('bad options throw coded errors', () => {
    expect(() => ollamaCheck({ url: 'not a url' })).toThrow(/DEIA_HEALTH_OPTIONS.*valid URL/);
    expect(() => ollamaCheck({ url: undefined, models: 'llama3' as never })).toThrow(
      /models must be an array/,
    );
  });
});

describe('httpCheck', () => {
  it('passes on 2xx, fails on others, honours expectStatus', async () => {
    const srv = await httpServer((req, res) => {
      res.statusCode = req.url === '/ok' ? 200 : req.url === '/teapot' ? 418 : 503;
      res.end();
    });
    const h = health({
      checks: {
        ok: httpCheck(`${srv.url}/ok`),
        down: httpCheck(`${srv.url}/down`),
        teapot: httpCheck(`${srv.url}/teapot`, { expectStatus: 418 }),
      },
    });
    const r = await h.run();
    expect(r.checks.ok!.status).toBe('pass');
    expect(r.checks.down!.status).toBe('fail');
    expect(r.checks.down!.message).toBe('unexpected HTTP 503');
    expect(r.checks.teapot!.status).toBe('pass');
    expect(r.status).toBe('degraded'); // non-critical by default
    expect(() => httpCheck('relative/path')).toThrow(/absolute URL/);
  });
});
