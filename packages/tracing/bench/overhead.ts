// Cost of tracing per request, side by side in one run: the same small route (Express 5 and Fastify 5,
// `GET /hello/:name` -> JSON) with tracing off, with @deia/tracing (real OTLP export to a local sink),
// and with plain @opentelemetry/sdk-node + getNodeAutoInstrumentations() defaults. Every request is
// sampled. Each sample is a fresh server process, loaded from this process with keep-alive connections;
// the modes are interleaved (rotated every round) to cancel drift on a shared machine. Reports the server's
// CPU time per request (the robust number), req/s, time-to-listen, and per-round CPU ratios against off.
// Usage: node --import tsx bench/overhead.ts [rounds=3] [seconds=5] [frameworks=express,fastify] [modes=off,deia,sdk-node]
import { spawn } from 'node:child_process';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
// @ts-expect-error plain .mjs helper without types
import { upstreamDir } from './upstream.mjs';

const rounds = Number(process.argv[2] ?? 3);
const seconds = Number(process.argv[3] ?? 5);
const frameworks = (process.argv[4] ?? 'express,fastify').split(',');
const modes = (process.argv[5] ?? 'off,deia,sdk-node').split(',');
const concurrency = 32;
const dir = fileURLToPath(new URL('..', import.meta.url));
const upstream = modes.includes('sdk-node') ? (upstreamDir() as string) : '';

let exportRequests = 0;
let exportBytes = 0;
const sink = createServer((req, res) => {
  req.on('data', (c: Buffer) => {
    exportBytes += c.length;
  });
  req.on('end', () => {
    exportRequests++;
    const proto = String(req.headers['content-type']).includes('protobuf');
    res.writeHead(200, { 'content-type': proto ? 'application/x-protobuf' : 'application/json' });
    res.end(proto ? '' : '{}');
  });
});
await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
const otlpUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;

async function load(port: number, ms: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  let done = 0;
  let n = 0;
  const until = Date.now() + ms;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: `/hello/${n++ % 100}`, agent }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end();
    });
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < until) {
        await one();
        done++;
      }
    }),
  );
  agent.destroy();
  return done;
}

interface Sample {
  rps: number;
  cpuUsPerReq: number;
  listenMs: number;
  tracingMs: number;
}

async function run(framework: string, mode: string): Promise<Sample> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/overhead-server.ts', framework, mode], {
    cwd: dir,
    env: { ...process.env, BENCH_OTLP_URL: otlpUrl, BENCH_UPSTREAM_DIR: upstream, NODE_ENV: 'production' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = <T>(key: string) =>
    new Promise<Record<string, T>>((resolve) => {
      const on = (m: unknown) => {
        if (m !== null && typeof m === 'object' && key in m) {
          child.off('message', on);
          resolve(m as Record<string, T>);
        }
      };
      child.on('message', on);
    });
  const { port, listenMs, tracingMs } = (await next<number>('port')) as Record<string, number>;
  await load(port, 1000); // warm-up (JIT, connections)
  child.send('cpu');
  const before = (await next<NodeJS.CpuUsage>('cpu')).cpu as NodeJS.CpuUsage;
  const started = Date.now();
  const requests = await load(port, seconds * 1000);
  const wall = (Date.now() - started) / 1000;
  child.send('cpu');
  const after = (await next<NodeJS.CpuUsage>('cpu')).cpu as NodeJS.CpuUsage;
  child.kill('SIGKILL');
  const cpu = after.user - before.user + (after.system - before.system);
  return { rps: requests / wall, cpuUsPerReq: cpu / requests, listenMs, tracingMs };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const samples = new Map<string, Sample[]>();
const ratios = new Map<string, number[]>();
for (let i = 0; i < rounds; i++) {
  for (const framework of frameworks) {
    // rotate the order every round
    const order = modes.map((_, k) => modes[(k + i) % modes.length] as string);
    const round = new Map<string, Sample>();
    for (const mode of order) {
      const s = await run(framework, mode);
      round.set(mode, s);
      const key = `${framework} ${mode}`;
      samples.set(key, [...(samples.get(key) ?? []), s]);
      console.log(
        `round ${i + 1} ${key.padEnd(18)} ${s.rps.toFixed(0).padStart(6)} req/s ${s.cpuUsPerReq.toFixed(0).padStart(5)} µs CPU/req  listen ${s.listenMs.toFixed(0)} ms (tracing ${s.tracingMs.toFixed(0)} ms)`,
      );
    }
    const off = round.get('off');
    for (const [mode, s] of round) {
      if (mode === 'off' || !off) continue;
      const key = `${framework} ${mode}`;
      ratios.set(key, [...(ratios.get(key) ?? []), s.cpuUsPerReq / off.cpuUsPerReq]);
    }
  }
}
console.log(
  '\n| app | tracing | CPU µs/req | CPU vs off, median (min–max) | req/s | time to listen | of which tracing set-up |',
);
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: |');
for (const [key, xs] of samples) {
  const [framework, mode] = key.split(' ');
  const r = ratios.get(key);
  const ratio = r
    ? `${median(r).toFixed(2)}x (${Math.min(...r).toFixed(2)}–${Math.max(...r).toFixed(2)})`
    : '1';
  console.log(
    `| ${framework} | ${mode} | ${median(xs.map((s) => s.cpuUsPerReq)).toFixed(0)} | ${ratio} | ${median(xs.map((s) => s.rps)).toFixed(0)} | ${median(xs.map((s) => s.listenMs)).toFixed(0)} ms | ${median(xs.map((s) => s.tracingMs)).toFixed(0)} ms |`,
  );
}
console.log(`\nOTLP sink: ${exportRequests} export requests, ${(exportBytes / 1e6).toFixed(1)} MB`);
sink.close();
