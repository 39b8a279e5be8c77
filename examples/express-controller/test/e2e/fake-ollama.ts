// An Ollama-like HTTP server on loopback: enough of /api/tags, /api/version, /api/ps, /api/generate and
// /api/chat for the example's bots, switchable to 500s (error ratio, dependency errors) and to slow.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const FAKE_MODEL = 'llama3.2:1b';

export interface FakeOllama {
  readonly url: string;
  /** When true every model call (/api/generate, /api/chat) answers 500 with an Ollama-style `{ error }` body. */
  setFailing(failing: boolean): void;
  /** Share of model calls (/api/generate, /api/chat) answered 500, spread evenly (0.5: every other call). */
  setFailureRatio(ratio: number): void;
  /** Delay before each answer, in milliseconds. */
  setDelayMs(ms: number): void;
  /** Requests seen, by path. */
  readonly counts: Record<string, number>;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(text);
}

export async function startFakeOllama(): Promise<FakeOllama> {
  let failureRatio = 0;
  let owed = 0;
  /** Deterministic: a failure each time the accumulated ratio reaches a whole call. */
  const nextFails = () => {
    owed += failureRatio;
    if (owed < 1 - 1e-9) return false;
    owed -= 1;
    return true;
  };
  let delayMs = 0;
  const counts: Record<string, number> = {};
  const server: Server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    counts[path] = (counts[path] ?? 0) + 1;
    let body: Record<string, unknown> = {};
    try {
      const text = await readBody(req);
      body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      // not JSON; answered below like Ollama would
    }
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    if (path === '/' || path === '') {
      res.end('Ollama is running');
      return;
    }
    // Injected failures hit the model calls only: the server stays up (its /api/tags, /api/version
    // and /api/ps answer, so the health check does not call it down) while the model fails.
    if ((path === '/api/generate' || path === '/api/chat') && nextFails()) {
      json(res, 500, { error: 'fake ollama: injected failure' });
      return;
    }
    const model = typeof body.model === 'string' ? body.model : FAKE_MODEL;
    const now = new Date().toISOString();
    switch (path) {
      case '/api/version':
        json(res, 200, { version: '0.6.0' });
        return;
      case '/api/tags':
        json(res, 200, {
          models: [
            {
              name: FAKE_MODEL,
              model: FAKE_MODEL,
              modified_at: now,
              size: 1_321_098_329,
              digest: 'e2e0000000000000000000000000000000000000000000000000000000000000',
              details: {
                format: 'gguf',
                family: 'llama',
                parameter_size: '1.2B',
                quantization_level: 'Q8_0',
              },
            },
          ],
        });
        return;
      case '/api/ps':
        // the model is resident, for the residency series (llm_model_resident, ...)
        json(res, 200, {
          models: [
            {
              name: FAKE_MODEL,
              model: FAKE_MODEL,
              size: 1_321_098_329,
              size_vram: 1_321_098_329,
              expires_at: new Date(Date.now() + 300_000).toISOString(),
            },
          ],
        });
        return;
      case '/api/generate':
      case '/api/chat': {
        const prompt =
          typeof body.prompt === 'string'
            ? body.prompt
            : JSON.stringify((body.messages as unknown[] | undefined)?.at(-1) ?? '');
        const text = `echo from fake ollama: ${prompt.slice(0, 200)}`;
        const stats = {
          total_duration: 5_000_000,
          load_duration: 1_000_000,
          prompt_eval_count: Math.max(1, Math.ceil(prompt.length / 4)),
          prompt_eval_duration: 1_000_000,
          eval_count: Math.max(1, Math.ceil(text.length / 4)),
          eval_duration: 3_000_000,
        };
        const content =
          path === '/api/chat' ? { message: { role: 'assistant', content: text } } : { response: text };
        if (body.stream === false) {
          json(res, 200, { model, created_at: now, ...content, done: true, done_reason: 'stop', ...stats });
          return;
        }
        res.writeHead(200, { 'content-type': 'application/x-ndjson' });
        // two pieces, so a streamed call has a gap between chunks too
        const half = Math.ceil(text.length / 2);
        for (const piece of [text.slice(0, half), text.slice(half)]) {
          const part =
            path === '/api/chat' ? { message: { role: 'assistant', content: piece } } : { response: piece };
          res.write(`${JSON.stringify({ model, created_at: now, ...part, done: false })}\n`);
        }
        const last =
          path === '/api/chat' ? { message: { role: 'assistant', content: '' } } : { response: '' };
        res.end(
          `${JSON.stringify({ model, created_at: now, ...last, done: true, done_reason: 'stop', ...stats })}\n`,
        );
        return;
      }
      default:
        json(res, 404, { error: `fake ollama: no route ${path}` });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    setFailing: (value) => {
      failureRatio = value ? 1 : 0;
      owed = 0;
    },
    setFailureRatio: (ratio) => {
      failureRatio = Math.min(1, Math.max(0, ratio));
      owed = 0;
    },
    setDelayMs: (ms) => {
      delayMs = ms;
    },
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
