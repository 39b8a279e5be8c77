// The floor under any tracer built on the OpenTelemetry SDK: what one sampled server span costs in the
// SDK itself, in one process, before any framework, socket or context propagation. Each step is timed
// on its own in a tight loop (CPU time per span, median of interleaved rounds), so the numbers are the
// cheapest these steps get; a server pays them plus cache misses and GC.
//   bare span        tracer.startSpan(name) + end(), a no-op processor
//   server span      the light server span's calls: 5 start attributes, 2 at the end, updateName
//   + context writes the server span's two context writes (trace.setSpan, setRPCMetadata)
//   + batch processor the same into a BatchSpanProcessor (SDK defaults) whose exporter does nothing,
//                    the event loop turning every 64 spans so that it exports as in a server
//   serialise        OTLP protobuf serialisation of such spans, per span, in batches of 512 (the
//                    serializer the http/protobuf exporter uses)
// Usage: node --import tsx bench/floor.ts [rounds=7] [spans per round=100000]
import { createRequire } from 'node:module';
import { ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { RPCType, setRPCMetadata } from '@opentelemetry/core';
import {
  BatchSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
  type SpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';

const rounds = Number(process.argv[2] ?? 7);
const n = Number(process.argv[3] ?? 100_000);

// The serializer of @opentelemetry/exporter-trace-otlp-proto (a dependency of this package), from the
// transformer package that exporter depends on.
const fromExporter = createRequire(
  createRequire(import.meta.url).resolve('@opentelemetry/exporter-trace-otlp-proto'),
);
const { ProtobufTraceSerializer } = fromExporter('@opentelemetry/otlp-transformer') as {
  ProtobufTraceSerializer: { serializeRequest(spans: ReadableSpan[]): Uint8Array | undefined };
};

const kept: ReadableSpan[] = [];
const noop: SpanProcessor = {
  onStart: () => {},
  onEnd: () => {},
  forceFlush: async () => {},
  shutdown: async () => {},
};
const keep: SpanProcessor = { ...noop, onEnd: (span) => void (kept.length < 512 && kept.push(span)) };
const noopExporter: SpanExporter = { export: (_spans, done) => done({ code: 0 }), shutdown: async () => {} };
const plain = new TracerProvider({ spanProcessors: [noop] }).getTracer('@deia/tracing');
const keeping = new TracerProvider({ spanProcessors: [keep] }).getTracer('@deia/tracing');
const batched = new TracerProvider({
  spanProcessors: [new BatchSpanProcessor({ exporter: noopExporter })],
}).getTracer('@deia/tracing');

function serverSpan(tracer: typeof plain, i: number) {
  const span = tracer.startSpan(
    'GET',
    {
      kind: SpanKind.SERVER,
      attributes: {
        'http.request.method': 'GET',
        'url.path': `/hello/${i % 100}`,
        'url.scheme': 'http',
        'network.protocol.version': '1.1',
        'user_agent.original': 'node',
      },
    },
    ROOT_CONTEXT,
  );
  return span;
}
function finish(span: ReturnType<typeof serverSpan>) {
  span.setAttribute('http.response.status_code', 200);
  span.setAttribute('http.route', '/hello/:name');
  span.updateName('GET /hello/:name');
  span.end();
}

const steps: Record<string, () => Promise<number>> = {
  'bare span': async () => {
    for (let i = 0; i < n; i++) plain.startSpan('GET', undefined, ROOT_CONTEXT).end();
    return n;
  },
  'server span': async () => {
    for (let i = 0; i < n; i++) finish(serverSpan(plain, i));
    return n;
  },
  '+ context writes': async () => {
    for (let i = 0; i < n; i++) {
      const span = serverSpan(plain, i);
      setRPCMetadata(trace.setSpan(ROOT_CONTEXT, span), { type: RPCType.HTTP, span });
      finish(span);
    }
    return n;
  },
  // The event loop turns every 64 spans, as between requests, so the processor exports as in a server.
  '+ batch processor': async () => {
    for (let i = 0; i < n; i++) {
      const span = serverSpan(batched, i);
      setRPCMetadata(trace.setSpan(ROOT_CONTEXT, span), { type: RPCType.HTTP, span });
      finish(span);
      if (i % 64 === 63) await new Promise((resolve) => setImmediate(resolve));
    }
    return n;
  },
  serialise: async () => {
    const batches = Math.max(1, Math.round(n / 512));
    for (let b = 0; b < batches; b++) ProtobufTraceSerializer.serializeRequest(kept);
    return batches * kept.length;
  },
};

for (let i = 0; i < 512; i++) finish(serverSpan(keeping, i));
const samples: Record<string, number[]> = Object.fromEntries(Object.keys(steps).map((k) => [k, []]));
for (let r = 0; r < rounds; r++) {
  const names = Object.keys(steps);
  for (let k = 0; k < names.length; k++) {
    const name = names[(k + r) % names.length] as string;
    const cpu = process.cpuUsage();
    const count = await (steps[name] as () => Promise<number>)();
    const used = process.cpuUsage(cpu);
    if (r > 0) samples[name]?.push(((used.user + used.system) * 1000) / count); // round 0 warms up
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const bytes = ProtobufTraceSerializer.serializeRequest(kept)?.length ?? 0;
console.log(`node ${process.version}, ${rounds - 1} rounds of ${n} spans (first round discarded)\n`);
console.log('| step | ns CPU per span, median (min–max) |\n| --- | ---: |');
for (const [name, xs] of Object.entries(samples)) {
  console.log(
    `| ${name} | ${Math.round(median(xs))} (${Math.round(Math.min(...xs))}–${Math.round(Math.max(...xs))}) |`,
  );
}
console.log(`\nOTLP protobuf: ${Math.round(bytes / kept.length)} bytes per span`);
process.exit(0);
