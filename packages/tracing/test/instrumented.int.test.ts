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
}
interface FixtureOutput {
  status: number;
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

describe.each(['express', 'fastify'] as const)('%s request with PostgreSQL and Redis', (mode) => {
  let out: FixtureOutput;
  beforeAll(async () => {
    out = await runFixture(mode);
  }, FIXTURE_TIMEOUT_MS + 5_000);

  it('produces one trace whose server span is an ancestor of the pg and redis spans', () => {
    expect(out.status).toBe(200);
    expect(out.body).toEqual({ one: 1, cached: '1' });
    const servers = out.spans.filter((s) => s.kind === SpanKind.SERVER);
    expect(servers).toHaveLength(1);
    const server = servers[0] as FixtureSpan;
    expect(server.parentSpanId).toBeUndefined();
    expect(new Set(out.spans.map((s) => s.traceId))).toEqual(new Set([server.traceId]));

    const pgQuery = out.spans.filter(
      (s) => s.scope === '@opentelemetry/instrumentation-pg' && s.name.startsWith('pg.query'),
    );
    const redis = out.spans.filter((s) => s.scope === '@opentelemetry/instrumentation-ioredis');
    expect(pgQuery.length).toBeGreaterThanOrEqual(1);
    expect(redis.map((s) => s.name).sort()).toEqual(['get', 'set']);
    for (const span of [...pgQuery, ...redis]) {
      expect(span.kind).toBe(SpanKind.CLIENT);
      expect(hasAncestor(out.spans, span, server.spanId)).toBe(true);
    }
    // the route template names the server span; no per-middleware/hook spans by default
    expect(server.attributes['http.route']).toBe('/work/:id');
    expect(server.name).toBe('GET /work/:id');
    const framework = mode === 'express' ? '@opentelemetry/instrumentation-express' : '@fastify/otel';
    expect(out.spans.some((s) => s.scope === framework)).toBe(false);
  });

  it('writes the handler log line with that trace id, in the guide format', () => {
    const server = out.spans.find((s) => s.kind === SpanKind.SERVER) as FixtureSpan;
    const handled = out.lines.map((l) => JSON.parse(l)).find((l) => l.message === 'handled /work');
    expect(handled).toMatchObject({
      level: 'INFO',
      service: `fixture-${mode}`,
      trace_id: server.traceId,
      cached: '1',
      message: 'handled /work',
    });
    expect(handled.span_id).toMatch(/^[0-9a-f]{16}$/);
    expect(out.spans.some((s) => s.spanId === handled.span_id)).toBe(true);
    expect(new Date(handled.timestamp).toISOString()).toBe(handled.timestamp);
  });

  it('exposes an OpenMetrics exemplar carrying the trace id of the request', () => {
    const server = out.spans.find((s) => s.kind === SpanKind.SERVER) as FixtureSpan;
    const withExemplar = out.exposition
      .split('\n')
      .filter((l) => l.startsWith('http_request_duration_seconds_bucket') && l.includes(' # {'));
    expect(withExemplar).toHaveLength(1);
    expect(withExemplar[0]).toContain(`# {trace_id="${server.traceId}"}`);
  });
});

describe('express layer spans', () => {
  it(
    'come back with instrumentations.express.layerSpans, under the same named server span',
    async () => {
      const out = await runFixture('express', { LAYER_SPANS: '1' });
      const server = out.spans.find((s) => s.kind === SpanKind.SERVER) as FixtureSpan;
      expect(server.name).toBe('GET /work/:id');
      const layers = out.spans.filter((s) => s.scope === '@opentelemetry/instrumentation-express');
      expect(layers.map((s) => s.attributes['express.type'])).toContain('request_handler');
      for (const span of layers) expect(hasAncestor(out.spans, span, server.spanId)).toBe(true);
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
