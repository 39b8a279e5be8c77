// One server for the overhead benchmark: argv[2] = express|fastify, argv[3] = the tracing set-up:
//   off       no tracing
//   deia      startTracing() defaults (every bundled instrumentation, Express layer spans off), sampling 1,
//             OTLP export (http/protobuf unless BENCH_PROTOCOL) to the driver's sink
//   deia-none the same with exporter 'none' (spans created, not exported)
//   deia-http the same as deia with instrumentations.http.serverSpans 'instrumentation' (instrumentation-http's
//             server side instead of the light server span: the default before it existed)
//   sdk-node  plain @opentelemetry/sdk-node + getNodeAutoInstrumentations() defaults, OTLP http/protobuf
//             to the same sink (loaded from BENCH_UPSTREAM_DIR, see upstream.mjs)
// Reports its port and time-to-listen (ms since process start, so module loading is included), and its
// CPU usage when asked, over IPC; 'flush' exports every span made so far (instructions.ts brackets its
// measured window with it, so the window holds the export of exactly its own spans).
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

const [framework, mode] = process.argv.slice(2);
const otlp = process.env.BENCH_OTLP_URL as string;
const tracingStart = performance.now();
let flush = async () => {};
if (mode === 'deia' || mode === 'deia-none' || mode === 'deia-http') {
  // the built package, as users load it (run `pnpm run build` first)
  const { startTracing } = await import('../dist/index.js');
  const handle = startTracing({
    serviceName: 'bench',
    exporter: mode === 'deia-none' ? 'none' : 'otlp',
    ...(mode === 'deia-http'
      ? { instrumentations: { http: { serverSpans: 'instrumentation' as const } } }
      : {}),
    sampleRatio: 1,
    otlpEndpoint: otlp,
    ...(process.env.BENCH_PROTOCOL ? { otlpProtocol: process.env.BENCH_PROTOCOL as 'http/json' } : {}),
    // Extra startTracing options as JSON, to measure one setting against the defaults.
    ...(process.env.BENCH_TRACING ? JSON.parse(process.env.BENCH_TRACING) : {}),
  });
  flush = () => handle.forceFlush();
} else if (mode === 'sdk-node') {
  const up = createRequire(join(process.env.BENCH_UPSTREAM_DIR as string, 'package.json'));
  const { NodeSDK } = up('@opentelemetry/sdk-node');
  const { getNodeAutoInstrumentations } = up('@opentelemetry/auto-instrumentations-node');
  const { OTLPTraceExporter } = up('@opentelemetry/exporter-trace-otlp-proto');
  new NodeSDK({
    serviceName: 'bench',
    traceExporter: new OTLPTraceExporter({ url: `${otlp}/v1/traces` }),
    instrumentations: [getNodeAutoInstrumentations()],
  }).start();
  // The registered provider, through the public API of the proxy every @opentelemetry/api copy returns.
  const provider = up('@opentelemetry/api').trace.getTracerProvider().getDelegate();
  flush = () => provider.forceFlush();
} else if (mode !== 'off') {
  throw new Error(`unknown mode ${mode}`);
}

// Importing and starting tracing, on its own (time-to-listen also holds tsx and the framework).
const tracingMs = performance.now() - tracingStart;
const require = createRequire(import.meta.url);
// Longer than node's 5 s: under valgrind (instructions.ts) a connection can idle that long between requests.
const KEEP_ALIVE_MS = 120_000;
const ready = (port: number) => process.send?.({ port, listenMs: performance.now(), tracingMs });
if (framework === 'express') {
  const express = require('express') as () => {
    get(path: string, fn: (req: unknown, res: { json(body: unknown): void }) => void): void;
    listen(port: number, host: string, cb: () => void): import('node:http').Server;
  };
  const app = express();
  app.get('/hello/:name', (_req, res) => res.json({ hello: 'world' }));
  const server = app.listen(0, '127.0.0.1', () => ready((server.address() as AddressInfo).port));
  server.keepAliveTimeout = KEEP_ALIVE_MS;
} else {
  const Fastify = require('fastify') as typeof import('fastify').default;
  const app = Fastify({ keepAliveTimeout: KEEP_ALIVE_MS });
  app.get('/hello/:name', async () => ({ hello: 'world' }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  ready((app.server.address() as AddressInfo).port);
}
// V8's CPU profiler over exactly the window profile.ts asks for (no start-up, no warm-up).
const profiler = (() => {
  const session = new Session();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) =>
      session.post(method, params, (err, result) => (err ? reject(err) : resolve(result))),
    );
  return {
    async start() {
      session.connect();
      await post('Profiler.enable');
      await post('Profiler.setSamplingInterval', { interval: 100 });
      await post('Profiler.start');
    },
    async stop() {
      const { profile } = (await post('Profiler.stop')) as { profile: unknown };
      const file = process.env.BENCH_PROFILE as string;
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
      return file;
    },
  };
})();

// The driver reads this process's CPU time around the measured window.
process.on('message', (m) => {
  if (m === 'flush') flush().then(() => process.send?.({ flushed: true }));
  else if (m === 'profile-start') profiler.start().then(() => process.send?.({ profiling: true }));
  else if (m === 'profile-stop') profiler.stop().then((file) => process.send?.({ profile: file }));
  else process.send?.({ cpu: process.cpuUsage() });
});
