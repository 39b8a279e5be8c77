// Real PostgreSQL and Redis on 127.0.0.1; each scenario runs in a fresh Node process because instrumentation
// patches express/fastify/pg/ioredis when they are first loaded (vitest's module loader would load them first).
import { SpanKind } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasAncestor, type OtlpSpan, runNode, startOtlpReceiver } from './helpers.js';

// A fresh Node process with tsx takes a few seconds on a loaded CI machine; bounded, but generously.
const FIXTURE_TIMEOUT_MS = 50_000;

interface FixtureSpan {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  scope: string;
  attributes: Record<string, unknown>;
  status: number;
}
interface FixtureOutput {
  status: number;
  statuses: number[];
  body: unknown;
  spans: FixtureSpan[];
  lines: string[];
  exposition: string;
}

async function runFixture(
  mode: 'express' | 'fastify',
  env: Record<string, string> = {},
): Promise<FixtureOutput> {
  const result = await runNode(
    ['--import', 'tsx', 'test/fixtures/traced-app.ts', mode],
    env,
    FIXTURE_TIMEOUT_MS,
  );
  const last = result.stdout.trim().split('\n').pop() ?? '';
  if (result.code !== 0 || !last.startsWith('{')) {
    throw new Error(`fixture ${mode} failed (${result.code}): ${result.stderr.slice(-2000)}`);
  }
  return JSON.parse(last) as FixtureOutput;
}

/** The caller's context the fixture's second request carries in `traceparent`. */
const CALLER_TRACE = '0af7651916cd43dd8448eb211c80319c';
const CALLER_SPAN = 'b7ad6b7169203331';

/**
 * The three requests of the fixture on one keep-alive connection: /work/7 (a new trace), /work/8 (joins
 * the caller's trace) and /missing?token=secret (404). Each server span carries the method, route and
 * status, and each one's pg and redis spans descend from it, not from a neighbour's.
 */
function expectServerSpans(out: FixtureOutput, scope: string): void {
  expect(out.statuses).toEqual([200, 200, 404]);
  const servers = out.spans.filter((s) => s.kind === SpanKind.SERVER);
  expect(servers).toHaveLength(3);
  const byPath = (path: string) => servers.find((s) => s.attributes['url.path'] === path) as FixtureSpan;
  const fresh = byPath('/work/7');
  const joined = byPath('/work/8');
  const missing = byPath('/missing');
  for (const server of servers) expect(server.scope).toBe(scope);

  expect(fresh.parentSpanId).toBeUndefined();
  expect(joined.traceId).toBe(CALLER_TRACE);
  expect(joined.parentSpanId).toBe(CALLER_SPAN);
  expect(fresh.traceId).not.toBe(CALLER_TRACE);
  for (const server of [fresh, joined]) {
    expect(server.name).toBe('GET /work/:id');
    expect(server.attributes).toMatchObject({
      'http.route': '/work/:id',
      'http.request.method': 'GET',
      'http.response.status_code': 200,
      'url.scheme': 'http',
    });
    const children = out.spans.filter((s) => s.traceId === server.traceId && s !== server);
    const pgQuery = children.filter(
      (s) => s.scope === '@opentelemetry/instrumentation-pg' && s.name.startsWith('pg.query'),
    );
    const redis = children.filter((s) => s.scope === '@opentelemetry/instrumentation-ioredis');
    expect(pgQuery.length).toBeGreaterThanOrEqual(1);
    expect(redis.map((s) => s.name).sort()).toEqual(['get', 'set']);
    for (const span of [...pgQuery, ...redis]) {
      expect(span.kind).toBe(SpanKind.CLIENT);
      expect(hasAncestor(out.spans, span, server.spanId)).toBe(true);
    }
  }
  expect(missing.attributes['http.response.status_code']).toBe(404);
  expect(new Set(out.spans.map((s) => s.traceId))).toEqual(
    new Set([fresh.traceId, joined.traceId, missing.traceId]),
  );
}

describe.each(['express', 'fastify'] as const)('%s request with PostgreSQL and Redis', (mode) => {
  let out: FixtureOutput;
  beforeAll(async () => {
    out = await runFixture(mode);
  }, FIXTURE_TIMEOUT_MS + 5_000);

  it('gives each request a light server span that is the ancestor of its pg and redis spans', () => {
    expectServerSpans(out, '@deia/tracing');
    // the light span records the path without the query string (which may carry credentials)
    const missing = out.spans.find((s) => s.attributes['url.path'] === '/missing');
    expect(JSON.stringify(missing?.attributes)).not.toContain('secret');
    // no per-middleware/hook spans by default
    const framework = mode === 'express' ? '@opentelemetry/instrumentation-express' : '@fastify/otel';
    expect(out.spans.some((s) => s.scope === framework)).toBe(false);
  });

  it('writes the handler log lines with the trace id of their request, in the guide format', () => {
    const servers = out.spans.filter((s) => s.kind === SpanKind.SERVER);
    const handled = out.lines.map((l) => JSON.parse(l)).filter((l) => l.message === 'handled /work');
    expect(handled).toHaveLength(2);
    expect(handled.map((l) => l.trace_id)).toEqual(
      ['/work/7', '/work/8'].map((p) => servers.find((s) => s.attributes['url.path'] === p)?.traceId),
    );
    expect(handled[0]).toMatchObject({ level: 'INFO', service: `fixture-${mode}`, cached: '1' });
    for (const line of handled) {
      expect(line.span_id).toMatch(/^[0-9a-f]{16}$/);
      expect(out.spans.some((s) => s.spanId === line.span_id && s.traceId === line.trace_id)).toBe(true);
      expect(new Date(line.timestamp).toISOString()).toBe(line.timestamp);
    }
  });

  it('exposes OpenMetrics exemplars carrying the trace ids of the requests', () => {
    const traceIds = new Set(out.spans.filter((s) => s.kind === SpanKind.SERVER).map((s) => s.traceId));
    const exemplars = out.exposition
      .split('\n')
      .filter((l) => l.startsWith('http_request_duration_seconds_bucket') && l.includes(' # {'))
      .map((l) => /# \{trace_id="([0-9a-f]{32})"\}/.exec(l)?.[1]);
    expect(exemplars.length).toBeGreaterThanOrEqual(1);
    for (const id of exemplars) expect(traceIds.has(id as string)).toBe(true);
  });
});

describe("instrumentations.http.serverSpans: 'instrumentation'", () => {
  it(
    "brings back instrumentation-http's server span with the same information",
    async () => {
      const out = await runFixture('express', { SERVER_SPANS: 'instrumentation' });
      expectServerSpans(out, '@opentelemetry/instrumentation-http');
    },
    FIXTURE_TIMEOUT_MS + 5_000,
  );
});

describe('express layer spans', () => {
  it(
    'come back with instrumentations.express.layerSpans, under the same named server span',
    async () => {
      const out = await runFixture('express', { LAYER_SPANS: '1' });
      const servers = out.spans.filter((s) => s.kind === SpanKind.SERVER);
      expect(servers.filter((s) => s.name === 'GET /work/:id')).toHaveLength(2);
      const layers = out.spans.filter((s) => s.scope === '@opentelemetry/instrumentation-express');
      expect(layers.map((s) => s.attributes['express.type'])).toContain('request_handler');
      for (const span of layers) {
        const server = servers.find((s) => s.traceId === span.traceId) as FixtureSpan;
        expect(hasAncestor(out.spans, span, server.spanId)).toBe(true);
      }
    },
    FIXTURE_TIMEOUT_MS + 5_000,
  );
});

describe('node --import @deia/tracing/register (ESM app, configured from OTEL_* only)', () => {
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  beforeAll(async () => {
    receiver = await startOtlpReceiver();
  });
  afterAll(() => receiver.close());

  it(
    'patches ESM imports, exports over OTLP/HTTP, and on SIGTERM flushes then lets the signal end the process',
    async () => {
      const result = await runNode(
        ['--import', 'tsx', '--import', './src/register.ts', 'test/fixtures/esm-app.mjs'],
        {
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
          OTEL_SERVICE_NAME: 'esm-fixture',
          OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=ci,service.version=9.9.9',
          // a long batch delay: the spans can only arrive through the flush on SIGTERM
          OTEL_BSP_SCHEDULE_DELAY: '60000',
        },
      );
      expect(result.stdout).toContain('"status":200');
      expect(result.signal).toBe('SIGTERM');
      const spans: OtlpSpan[] = receiver.spans;
      const server = spans.find((s) => s.kind === 2 /* OTLP SPAN_KIND_SERVER */);
      expect(server).toBeDefined();
      expect(server?.resource).toMatchObject({
        'service.name': 'esm-fixture',
        'service.version': '9.9.9',
        'deployment.environment.name': 'ci',
      });
      const pg = spans.filter(
        (s) => s.scope === '@opentelemetry/instrumentation-pg' && s.name.startsWith('pg.query'),
      );
      const redis = spans.filter((s) => s.scope === '@opentelemetry/instrumentation-ioredis');
      expect(server?.name).toBe('GET /esm');
      expect(server?.attributes['http.route']).toBe('/esm');
      expect(pg.length).toBeGreaterThanOrEqual(1);
      expect(redis.length).toBe(1);
      for (const span of [...pg, ...redis]) expect(hasAncestor(spans, span, server?.spanId ?? '')).toBe(true);
    },
    FIXTURE_TIMEOUT_MS + 5_000,
  );
});

describe('node --require @deia/tracing/register (CommonJS app that owns its shutdown)', () => {
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  beforeAll(async () => {
    receiver = await startOtlpReceiver();
  });
  afterAll(() => receiver.close());

  it(
    "patches require(), and leaves SIGTERM to the app's own listener",
    async () => {
      const result = await runNode(
        ['--require', 'tsx/cjs', '--require', './src/register-cjs.ts', 'test/fixtures/cjs-app.cjs'],
        {
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
          OTEL_SERVICE_NAME: 'cjs-fixture',
          OTEL_BSP_SCHEDULE_DELAY: '60000',
        },
        FIXTURE_TIMEOUT_MS,
      );
      expect(result.stdout).toContain('{"status":200}');
      // the app's listener ran and the process ended normally: the entry neither flushed-and-killed nor exited
      expect(result.stdout).toContain('app shut down');
      expect(result.code).toBe(0);
      expect(result.signal).toBeNull();
      const server = receiver.spans.find((s) => s.kind === 2);
      expect(server?.resource['service.name']).toBe('cjs-fixture');
      expect(server?.attributes['http.route']).toBe('/cjs');
    },
    FIXTURE_TIMEOUT_MS + 5_000,
  );
});
