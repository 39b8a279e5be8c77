// One Express server for the overhead benchmark: `off` (no tracing) or `on` (startTracing with every
// bundled instrumentation, sampling 1, OTLP/HTTP export to the driver's receiver, or no export with
// BENCH_EXPORTER=none; BENCH_SAMPLE_RATIO, default 1). Reports its port, and its CPU usage when asked, over IPC.
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';

const mode = process.argv[2];
if (mode === 'on') {
  const { startTracing } = await import('../src/index.js');
  const exporter = process.env.BENCH_EXPORTER === 'none' ? 'none' : 'otlp';
  startTracing({
    serviceName: 'bench',
    exporter,
    sampleRatio: Number(process.env.BENCH_SAMPLE_RATIO ?? 1),
    ...(process.env.BENCH_OTLP_URL ? { otlpEndpoint: process.env.BENCH_OTLP_URL } : {}),
  });
}
const require = createRequire(import.meta.url);
const express = require('express') as () => {
  get(path: string, fn: (req: unknown, res: { json(body: unknown): void }) => void): void;
  listen(port: number, host: string, cb: () => void): import('node:http').Server;
};
const app = express();
app.get('/hello', (_req, res) => res.json({ hello: 'world' }));
const server = app.listen(0, '127.0.0.1', () => {
  process.send?.({ port: (server.address() as AddressInfo).port });
});
// The driver reads this process's CPU time around the measured window.
process.on('message', () => process.send?.({ cpu: process.cpuUsage() }));
