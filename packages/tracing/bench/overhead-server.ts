// One server for the overhead benchmark: argv[2] = express|fastify, argv[3] = the tracing set-up:
//   off       no tracing
//   deia      startTracing() defaults (every bundled instrumentation, Express layer spans off), sampling 1,
//             OTLP export (http/protobuf unless BENCH_PROTOCOL) to the driver's sink
//   deia-none the same with exporter 'none' (spans created, not exported)
//   sdk-node  plain @opentelemetry/sdk-node + getNodeAutoInstrumentations() defaults, OTLP http/protobuf
//             to the same sink (loaded from BENCH_UPSTREAM_DIR, see upstream.mjs)
// Reports its port and time-to-listen (ms since process start, so module loading is included), and its
// CPU usage when asked, over IPC.
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

const [framework, mode] = process.argv.slice(2);
const otlp = process.env.BENCH_OTLP_URL as string;
const tracingStart = performance.now();
if (mode === 'deia' || mode === 'deia-none') {
  // the built package, as users load it (run `pnpm run build` first)
  const { startTracing } = await import('../dist/index.js');
  startTracing({
    serviceName: 'bench',
    exporter: mode === 'deia' ? 'otlp' : 'none',
    sampleRatio: 1,
    otlpEndpoint: otlp,
    ...(process.env.BENCH_PROTOCOL ? { otlpProtocol: process.env.BENCH_PROTOCOL as 'http/json' } : {}),
  });
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
} else if (mode !== 'off') {
  throw new Error(`unknown mode ${mode}`);
}

// Importing and starting tracing, on its own (time-to-listen also holds tsx and the framework).
const tracingMs = performance.now() - tracingStart;
const require = createRequire(import.meta.url);
const ready = (port: number) => process.send?.({ port, listenMs: performance.now(), tracingMs });
if (framework === 'express') {
  const express = require('express') as () => {
    get(path: string, fn: (req: unknown, res: { json(body: unknown): void }) => void): void;
    listen(port: number, host: string, cb: () => void): import('node:http').Server;
  };
  const app = express();
  app.get('/hello/:name', (_req, res) => res.json({ hello: 'world' }));
  const server = app.listen(0, '127.0.0.1', () => ready((server.address() as AddressInfo).port));
} else {
  const Fastify = require('fastify') as typeof import('fastify').default;
  const app = Fastify();
  app.get('/hello/:name', async () => ({ hello: 'world' }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  ready((app.server.address() as AddressInfo).port);
}
// The driver reads this process's CPU time around the measured window.
process.on('message', () => process.send?.({ cpu: process.cpuUsage() }));
