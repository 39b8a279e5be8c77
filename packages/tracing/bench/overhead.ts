// Throughput cost of tracing for a small Express route: alternating runs of the same server with
// tracing off and on (order flipped every round to cancel drift), each in a fresh process, loaded
// from this process with keep-alive connections; reports req/s and the server's CPU time per request
// (the robust number on a shared machine), with paired per-round ratios.
// Usage: node --import tsx bench/overhead.ts [rounds] [seconds]
import { spawn } from 'node:child_process';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

const rounds = Number(process.argv[2] ?? 4);
const seconds = Number(process.argv[3] ?? 5);
const concurrency = 32;
const dir = fileURLToPath(new URL('..', import.meta.url));

let exported = 0;
const receiver = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    exported++;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
const otlpUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;

async function load(port: number, ms: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  let done = 0;
  const until = Date.now() + ms;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/hello', agent }, (res) => {
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
  /** Server CPU time (user + system) per request, in microseconds: robust to a busy host. */
  cpuUsPerReq: number;
}

async function run(mode: 'on' | 'off'): Promise<Sample> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/overhead-server.ts', mode], {
    cwd: dir,
    env: { ...process.env, BENCH_OTLP_URL: otlpUrl, NODE_ENV: 'production' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = <T>(key: string) =>
    new Promise<T>((resolve) => {
      const on = (m: unknown) => {
        if (m !== null && typeof m === 'object' && key in m) {
          child.off('message', on);
          resolve((m as Record<string, T>)[key] as T);
        }
      };
      child.on('message', on);
    });
  const port = await next<number>('port');
  await load(port, 1000); // warm-up (JIT, connections)
  child.send('cpu');
  const before = await next<NodeJS.CpuUsage>('cpu');
  const started = Date.now();
  const requests = await load(port, seconds * 1000);
  const wall = (Date.now() - started) / 1000;
  child.send('cpu');
  const after = await next<NodeJS.CpuUsage>('cpu');
  child.kill('SIGKILL');
  const cpu = after.user - before.user + (after.system - before.system);
  return { rps: requests / wall, cpuUsPerReq: cpu / requests };
}

const results = { off: [] as Sample[], on: [] as Sample[] };
const cpuRatios: number[] = [];
for (let i = 0; i < rounds; i++) {
  const order: Array<'on' | 'off'> = i % 2 === 0 ? ['off', 'on'] : ['on', 'off'];
  const round: Partial<Record<'on' | 'off', Sample>> = {};
  for (const mode of order) {
    const sample = await run(mode);
    round[mode] = sample;
    results[mode].push(sample);
    console.log(
      `round ${i + 1} ${mode.padEnd(3)} ${sample.rps.toFixed(0)} req/s  ${sample.cpuUsPerReq.toFixed(0)} µs CPU/req`,
    );
  }
  cpuRatios.push((round.on as Sample).cpuUsPerReq / (round.off as Sample).cpuUsPerReq);
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const off = median(results.off.map((s) => s.rps));
const on = median(results.on.map((s) => s.rps));
console.log(
  JSON.stringify({
    rounds,
    seconds,
    concurrency,
    rpsOff: Math.round(off),
    rpsOn: Math.round(on),
    rpsRatio: +(on / off).toFixed(3),
    cpuUsPerReqOff: Math.round(median(results.off.map((s) => s.cpuUsPerReq))),
    cpuUsPerReqOn: Math.round(median(results.on.map((s) => s.cpuUsPerReq))),
    cpuRatioMedian: +median(cpuRatios).toFixed(3),
    cpuRatioMin: +Math.min(...cpuRatios).toFixed(3),
    cpuRatioMax: +Math.max(...cpuRatios).toFixed(3),
    otlpRequests: exported,
  }),
);
receiver.close();
