// The light HTTP server span listens on node:http's diagnostics channel, so it works in this process
// even though vitest loaded node:http before tracing started (nothing has to be patched).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import { afterEach, describe, expect, it } from 'vitest';
import { DeiaTracingError, getTracing, startTracing } from '../src/index.js';

const others = { express: false, fastify: false, pg: false, ioredis: false, pino: false } as const;
let server: Server | undefined;

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
  await getTracing()?.shutdown();
});

/** A server whose handler records the span it sees as active, and answers `status` after a tick. */
async function listen(seen: string[]): Promise<string> {
  server = createServer((req, res) => {
    setImmediate(() => {
      seen.push(trace.getActiveSpan()?.spanContext().spanId ?? 'none');
      res.statusCode = req.url?.startsWith('/boom') ? 503 : 200;
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Keeps every ended span, also after the provider shut down (an InMemorySpanExporter forgets them). */
function tracing() {
  const ended: ReadableSpan[] = [];
  const collector: SpanProcessor = {
    onStart: () => {},
    onEnd: (span) => ended.push(span),
    forceFlush: async () => {},
    shutdown: async () => {},
  };
  const handle = startTracing({ instrumentations: others, spanProcessors: [collector] });
  return { ended, handle };
}

describe('light HTTP server span', () => {
  it('is active in the handler, skips ignored paths, marks 5xx as errors, and stops on shutdown', async () => {
    const { ended, handle } = tracing();
    const seen: string[] = [];
    const base = await listen(seen);
    for (const path of ['/a?key=1', '/health', '/boom', '/metrics']) await (await fetch(base + path)).text();
    const spans = [...ended];
    expect(spans.map((s) => [s.name, s.kind, s.instrumentationScope.name])).toEqual([
      ['GET', SpanKind.SERVER, '@deia/tracing'],
      ['GET', SpanKind.SERVER, '@deia/tracing'],
    ]);
    const [ok, boom] = spans;
    expect(ok?.attributes).toMatchObject({
      'http.request.method': 'GET',
      'url.path': '/a',
      'http.response.status_code': 200,
    });
    expect(ok?.status.code).toBe(SpanStatusCode.UNSET);
    expect(boom?.status.code).toBe(SpanStatusCode.ERROR);
    expect(boom?.attributes['error.type']).toBe('503');
    // the handler saw its own span; ignored requests (same keep-alive connection) saw none
    expect(seen).toEqual([ok?.spanContext().spanId, 'none', boom?.spanContext().spanId, 'none']);

    await handle.shutdown();
    await (await fetch(`${base}/after`)).text();
    expect(ended).toHaveLength(2);
  });

  it('continues an incoming trace and baggage, and starts a new trace without them', async () => {
    const { ended } = tracing();
    const baggage: string[] = [];
    server = createServer((_req, res) => {
      baggage.push(propagation.getActiveBaggage()?.getEntry('tenant')?.value ?? 'none');
      res.end('ok');
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const parent = { trace: '0af7651916cd43dd8448eb211c80319c', span: 'b7ad6b7169203331' };
    const traceparent = `00-${parent.trace}-${parent.span}-01`;
    await (await fetch(`${base}/traced`, { headers: { traceparent } })).text();
    await (await fetch(`${base}/baggage-only`, { headers: { baggage: 'tenant=acme' } })).text();
    await (await fetch(`${base}/plain`)).text();
    const [traced, baggageOnly, plain] = ended;
    expect(traced?.spanContext().traceId).toBe(parent.trace);
    expect(traced?.parentSpanContext?.spanId).toBe(parent.span);
    expect(traced?.parentSpanContext?.isRemote).toBe(true);
    for (const root of [baggageOnly, plain]) {
      expect(root?.parentSpanContext).toBeUndefined();
      expect(root?.spanContext().traceId).not.toBe(parent.trace);
    }
    // a request with only a baggage header still gets its baggage (the propagators run for it)
    expect(baggage).toEqual(['none', 'acme', 'none']);
  });

  it("is replaced by instrumentation-http's server side with serverSpans: 'instrumentation'", async () => {
    const memory = new InMemorySpanExporter();
    startTracing({
      instrumentations: { ...others, http: { serverSpans: 'instrumentation' } },
      spanProcessors: [new SimpleSpanProcessor({ exporter: memory })],
    });
    const base = await listen([]);
    await (await fetch(`${base}/a`)).text();
    // node:http was loaded before tracing started, so the instrumentation could not patch it: no span
    expect(memory.getFinishedSpans()).toHaveLength(0);
  });

  it('rejects an unknown serverSpans value', () => {
    expect(() => startTracing({ instrumentations: { http: { serverSpans: 'fast' as never } } })).toThrow(
      DeiaTracingError,
    );
  });
});
