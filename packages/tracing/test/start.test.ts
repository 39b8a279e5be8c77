import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  DeiaTracingError,
  getTracing,
  startTracing,
  type TracingHandle,
  traceExemplar,
} from '../src/index.js';
import { startOtlpReceiver } from './helpers.js';

const off = { http: false, express: false, fastify: false, pg: false, ioredis: false, pino: false } as const;
const savedEnv = { ...process.env };

afterEach(async () => {
  await getTracing()?.shutdown();
  for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
  Object.assign(process.env, savedEnv);
});

function memoryTracing(options: Parameters<typeof startTracing>[0] = {}) {
  const memory = new InMemorySpanExporter();
  const handle = startTracing({
    instrumentations: off,
    spanProcessors: [new SimpleSpanProcessor({ exporter: memory })],
    ...options,
  });
  return { memory, handle };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DeiaTracingError);
    expect((err as Error).message).toMatch(/^\[DEIA_TRACING_/);
    return (err as DeiaTracingError).code;
  }
  return undefined;
}

describe('startTracing options', () => {
  it('rejects bad options with a coded error that says what to change', () => {
    expect(codeOf(() => startTracing({ exporter: 'jaeger' as never }))).toBe('DEIA_TRACING_OPTIONS');
    expect(codeOf(() => startTracing({ sampleRatio: 2 }))).toBe('DEIA_TRACING_OPTIONS');
    expect(codeOf(() => startTracing({ sampleRatio: Number.NaN }))).toBe('DEIA_TRACING_OPTIONS');
    expect(codeOf(() => startTracing({ serviceName: '' }))).toBe('DEIA_TRACING_OPTIONS');
    expect(codeOf(() => startTracing({ instrumentations: { mongodb: true } as never }))).toBe(
      'DEIA_TRACING_OPTIONS',
    );
    expect(codeOf(() => startTracing({ sampleRate: 1 } as never))).toBe('DEIA_TRACING_OPTIONS');
    expect(codeOf(() => startTracing({ shutdownTimeoutMs: 0 }))).toBe('DEIA_TRACING_OPTIONS');
    expect(getTracing()).toBeUndefined();
  });

  it('never echoes an endpoint that may carry credentials', () => {
    try {
      startTracing({ otlpEndpoint: 'ftp://user:hunter2@collector' });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).not.toContain('hunter2');
      expect((err as DeiaTracingError).code).toBe('DEIA_TRACING_OPTIONS');
    }
  });

  it('takes the exporter from OTEL_TRACES_EXPORTER unless the option is given', async () => {
    process.env.OTEL_TRACES_EXPORTER = 'none';
    const fromEnv = startTracing({ instrumentations: off });
    expect(fromEnv.exporter).toBe('none');
    await fromEnv.shutdown();
    process.env.OTEL_TRACES_EXPORTER = 'console';
    const explicit = startTracing({ exporter: 'none', instrumentations: off });
    expect(explicit.exporter).toBe('none');
  });

  it('rejects an unsupported OTEL_TRACES_EXPORTER', () => {
    process.env.OTEL_TRACES_EXPORTER = 'zipkin';
    expect(codeOf(() => startTracing({ instrumentations: off }))).toBe('DEIA_TRACING_ENV');
  });

  it('warns on a second start and returns the running handle', () => {
    const warn = vi.fn();
    const { handle } = memoryTracing({ warn });
    expect(startTracing({ warn })).toBe(handle);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('already running'));
    expect(getTracing()).toBe(handle);
  });

  it('shutdown is idempotent and allows a fresh start afterwards', async () => {
    const { handle } = memoryTracing();
    const first = handle.shutdown();
    expect(handle.shutdown()).toBe(first);
    await first;
    expect(getTracing()).toBeUndefined();
    const { handle: second } = memoryTracing();
    expect(second).not.toBe(handle);
  });
});

describe('resource and sampling: explicit options > OTEL_* > defaults', () => {
  const resourceOf = async (handle: TracingHandle, memory: InMemorySpanExporter) => {
    trace.getTracer('t').startSpan('x').end();
    await handle.forceFlush();
    const span = memory.getFinishedSpans()[0];
    await span?.resource.waitForAsyncAttributes?.();
    return span?.resource.attributes ?? {};
  };

  it('takes service.name from OTEL_RESOURCE_ATTRIBUTES when OTEL_SERVICE_NAME is not set', async () => {
    delete process.env.OTEL_SERVICE_NAME;
    process.env.OTEL_RESOURCE_ATTRIBUTES = 'service.name=from-attributes,service.version=2.0.0';
    const { memory, handle } = memoryTracing();
    expect(handle.serviceName).toBe('from-attributes');
    expect(await resourceOf(handle, memory)).toMatchObject({ 'service.name': 'from-attributes' });
  });

  it('uses OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES over the defaults, adds host and process', async () => {
    process.env.OTEL_SERVICE_NAME = 'from-env';
    process.env.OTEL_RESOURCE_ATTRIBUTES =
      'deployment.environment.name=staging,service.version=1.2.3,team=bots';
    const { handle, memory } = memoryTracing();
    const attrs = await resourceOf(handle, memory);
    expect(attrs).toMatchObject({
      'service.name': 'from-env',
      'service.version': '1.2.3',
      'deployment.environment.name': 'staging',
      'deployment.environment': 'staging',
      team: 'bots',
    });
    expect(attrs['host.name']).toEqual(expect.any(String));
    expect(attrs['process.pid']).toBe(process.pid);
    // the command line can carry credentials; it is left out
    expect(attrs['process.command_args']).toBeUndefined();
  });

  it('lets explicit options win over OTEL_*', async () => {
    process.env.OTEL_SERVICE_NAME = 'from-env';
    process.env.OTEL_RESOURCE_ATTRIBUTES = 'deployment.environment.name=staging';
    const { handle, memory } = memoryTracing({
      serviceName: 'explicit',
      serviceVersion: '2.0.0',
      environment: 'prod',
    });
    expect(handle.serviceName).toBe('explicit');
    expect(await resourceOf(handle, memory)).toMatchObject({
      'service.name': 'explicit',
      'service.version': '2.0.0',
      'deployment.environment.name': 'prod',
    });
  });

  it('sampleRatio 0 records nothing and gives no exemplar; OTEL_TRACES_SAMPLER applies when no ratio is passed', async () => {
    const { handle, memory } = memoryTracing({ sampleRatio: 0 });
    trace.getTracer('t').startActiveSpan('dropped', (span) => {
      expect(traceExemplar()).toBeUndefined();
      span.end();
    });
    await handle.shutdown();
    expect(memory.getFinishedSpans()).toHaveLength(0);

    process.env.OTEL_TRACES_SAMPLER = 'always_off';
    const second = memoryTracing();
    trace.getTracer('t').startSpan('dropped too').end();
    await second.handle.forceFlush();
    expect(second.memory.getFinishedSpans()).toHaveLength(0);
  });

  it('exporter none still creates spans, so logs and exemplars get trace ids', () => {
    startTracing({ exporter: 'none', instrumentations: off });
    trace.getTracer('t').startActiveSpan('local', (span) => {
      expect(traceExemplar()).toEqual({ trace_id: span.spanContext().traceId });
      span.end();
    });
  });
});

describe('exporter otlp', () => {
  it('sends spans to a real OTLP/HTTP receiver, and shutdown() resolves only after they arrived', async () => {
    const receiver = await startOtlpReceiver();
    try {
      const handle = startTracing({
        serviceName: 'otlp-test',
        exporter: 'otlp',
        otlpEndpoint: `${receiver.url}/`,
        otlpProtocol: 'http/json',
        instrumentations: off,
      });
      expect(handle.exporter).toBe('otlp');
      const tracer = trace.getTracer('otlp-test');
      tracer.startActiveSpan('parent', (parent) => {
        tracer.startSpan('child').end();
        parent.end();
      });
      // the batch processor waits 5 s by default: nothing has been sent yet
      expect(receiver.spans).toHaveLength(0);
      await handle.shutdown();
      expect(receiver.spans.map((s) => s.name).sort()).toEqual(['child', 'parent']);
      const parent = receiver.spans.find((s) => s.name === 'parent');
      const child = receiver.spans.find((s) => s.name === 'child');
      expect(child?.parentSpanId).toBe(parent?.spanId);
      expect(parent?.resource['service.name']).toBe('otlp-test');
    } finally {
      await receiver.close();
    }
  });

  it('reads OTEL_EXPORTER_OTLP_ENDPOINT when no endpoint option is given', async () => {
    const receiver = await startOtlpReceiver();
    try {
      process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
      process.env.OTEL_EXPORTER_OTLP_PROTOCOL = 'http/json';
      const handle = startTracing({ exporter: 'otlp', instrumentations: off });
      trace.getTracer('t').startSpan('via-env').end();
      await handle.shutdown();
      expect(receiver.spans.map((s) => s.name)).toEqual(['via-env']);
    } finally {
      await receiver.close();
    }
  });

  it('does not hang shutdown on an unreachable collector', async () => {
    const warn = vi.fn();
    // a port that was just free: nothing listens there
    const closed = await startOtlpReceiver();
    await closed.close();
    const handle = startTracing({
      exporter: 'otlp',
      otlpEndpoint: closed.url,
      instrumentations: off,
      shutdownTimeoutMs: 300,
      warn,
    });
    trace.getTracer('t').startSpan('lost').end();
    const started = Date.now();
    await handle.shutdown();
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('speaks http/protobuf by default and honours OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL', async () => {
    const receiver = await startOtlpReceiver();
    try {
      const send = async (env: Record<string, string>, options: Parameters<typeof startTracing>[0] = {}) => {
        Object.assign(process.env, env);
        const handle = startTracing({ otlpEndpoint: receiver.url, instrumentations: off, ...options });
        trace.getTracer('t').startSpan('s').end();
        await handle.shutdown();
        for (const k of Object.keys(env)) delete process.env[k];
        return { protocol: handle.otlp?.protocol, contentType: receiver.contentTypes.at(-1) };
      };
      expect(await send({})).toEqual({ protocol: 'http/protobuf', contentType: 'application/x-protobuf' });
      expect(await send({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })).toEqual({
        protocol: 'http/json',
        contentType: 'application/json',
      });
      expect(
        await send({
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
          OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf',
        }),
      ).toMatchObject({ protocol: 'http/protobuf' });
      expect(
        await send({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }, { otlpProtocol: 'http/protobuf' }),
      ).toMatchObject({ protocol: 'http/protobuf' });
    } finally {
      await receiver.close();
    }
  });

  it('loads the gRPC exporter only when asked, and rejects an unknown protocol', async () => {
    process.env.OTEL_EXPORTER_OTLP_PROTOCOL = 'grpc';
    const handle = startTracing({ instrumentations: off, shutdownTimeoutMs: 300 });
    expect(handle.otlp).toEqual({ protocol: 'grpc', url: 'http://localhost:4317' });
    await handle.shutdown();
    process.env.OTEL_EXPORTER_OTLP_PROTOCOL = 'thrift';
    expect(codeOf(() => startTracing({ instrumentations: off }))).toBe('DEIA_TRACING_ENV');
    expect(codeOf(() => startTracing({ otlpProtocol: 'udp' as never }))).toBe('DEIA_TRACING_OPTIONS');
  });

  it('says once, with the endpoint and the error, that exports fail, counts the lost spans, and says when they recover', async () => {
    const receiver = await startOtlpReceiver();
    try {
      receiver.status = 400; // rejected, not retried
      const warn = vi.fn();
      const dropped: Array<[number, string]> = [];
      const handle = startTracing({
        otlpEndpoint: receiver.url,
        instrumentations: off,
        warn,
        onDroppedSpans: (count, reason) => dropped.push([count, reason]),
      });
      const tracer = trace.getTracer('t');
      for (let i = 0; i < 3; i++) {
        tracer.startSpan(`lost-${i}`).end();
        await handle.forceFlush(); // resolves: a failed export is reported, never thrown at the app
      }
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0]?.[0]).toContain(`${receiver.url}/v1/traces failed`);
      expect(handle.spanStats()).toMatchObject({ failed: 3, exported: 0, failing: true });
      expect(dropped).toEqual([
        [1, 'export_failed'],
        [1, 'export_failed'],
        [1, 'export_failed'],
      ]);
      receiver.status = 200;
      tracer.startSpan('kept').end();
      await handle.forceFlush();
      expect(warn).toHaveBeenCalledTimes(2);
      expect(warn.mock.calls[1]?.[0]).toContain('works again');
      expect(handle.spanStats()).toMatchObject({ failed: 3, exported: 1, failing: false });
    } finally {
      await receiver.close();
    }
  });

  it('counts spans the batch queue drops when it is full', async () => {
    process.env.OTEL_BSP_MAX_QUEUE_SIZE = '2';
    process.env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE = '1';
    const dropped: Array<[number, string]> = [];
    const handle = startTracing({
      instrumentations: off,
      shutdownTimeoutMs: 300,
      // an exporter that never answers: the queue fills up
      traceExporter: { export: () => {}, shutdown: async () => {} },
      onDroppedSpans: (count, reason) => dropped.push([count, reason]),
    });
    const tracer = trace.getTracer('t');
    for (let i = 0; i < 10; i++) tracer.startSpan(`s${i}`).end();
    expect(handle.spanStats().dropped).toBeGreaterThanOrEqual(7);
    expect(dropped.every(([, reason]) => reason === 'queue_full')).toBe(true);
    expect(dropped.reduce((n, [c]) => n + c, 0)).toBe(handle.spanStats().dropped);
  });
});
